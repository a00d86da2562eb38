"""A small S3 on Lambent's endpoint: buckets and objects, so code can come from S3.

Buckets belong to an account (their names are global, as on AWS); object metadata lives in
the store, object bytes in a content-addressed directory under the data dir.
"""
