"""A Secrets Manager-compatible secret store: secrets and their versions as documents in
the control-plane store (SQLite or PostgreSQL), each value sealed under the master key.

`service.Secrets` is the domain API (the secretsmanager handlers call it, and so will the
RabbitMQ event source for BASIC_AUTH credentials); `names.py` makes and reads ARNs.
"""
