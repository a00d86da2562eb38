"""S3 routes compiled from the model: path-style addressing, literal queries, and the
operations that share a method and requestUri told apart by their required members."""

from __future__ import annotations

import botocore.session
import pytest

from lambent.api.routing import Router


@pytest.fixture(scope="module")
def router() -> Router:
    session = botocore.session.get_session()
    return Router(session.get_service_model("s3", api_version="2006-03-01"))


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "operation", "params"),
    [
        ("GET", "/", "", {}, "ListBuckets", {}),
        ("PUT", "/b", "", {}, "CreateBucket", {"Bucket": "b"}),
        ("HEAD", "/b", "", {}, "HeadBucket", {"Bucket": "b"}),
        ("DELETE", "/b", "", {}, "DeleteBucket", {"Bucket": "b"}),
        ("GET", "/b", "", {}, "ListObjects", {"Bucket": "b"}),
        ("GET", "/b", "list-type=2&prefix=a", {}, "ListObjectsV2", {"Bucket": "b"}),
        ("GET", "/b/", "versioning", {}, "GetBucketVersioning", {"Bucket": "b"}),
        ("GET", "/b", "versions", {}, "ListObjectVersions", {"Bucket": "b"}),
        ("GET", "/b", "location", {}, "GetBucketLocation", {"Bucket": "b"}),
        ("POST", "/b", "delete", {}, "DeleteObjects", {"Bucket": "b"}),
        ("PUT", "/b/dir/k.zip", "", {}, "PutObject", {"Bucket": "b", "Key": "dir/k.zip"}),
        ("PUT", "/b/k", "x-id=PutObject", {}, "PutObject", {"Bucket": "b", "Key": "k"}),
        (
            "PUT",
            "/b/k",
            "",
            {"x-amz-copy-source": "s/k"},
            "CopyObject",
            {"Bucket": "b", "Key": "k"},
        ),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {}, "UploadPart", {"Bucket": "b", "Key": "k"}),
        (
            "PUT",
            "/b/k",
            "partNumber=1&uploadId=u",
            {"x-amz-copy-source": "s/k"},
            "UploadPartCopy",
            {"Bucket": "b", "Key": "k"},
        ),
        ("GET", "/b/k", "", {}, "GetObject", {"Bucket": "b", "Key": "k"}),
        ("GET", "/b/k", "uploadId=u", {}, "ListParts", {"Bucket": "b", "Key": "k"}),
        ("GET", "/b/k", "tagging", {}, "GetObjectTagging", {"Bucket": "b", "Key": "k"}),
        ("DELETE", "/b/k", "", {}, "DeleteObject", {"Bucket": "b", "Key": "k"}),
        ("DELETE", "/b/k", "uploadId=u", {}, "AbortMultipartUpload", {"Bucket": "b", "Key": "k"}),
        ("HEAD", "/b/a%20b%2Bc/d", "", {}, "HeadObject", {"Bucket": "b", "Key": "a b+c/d"}),
        ("GET", "/b//lead", "", {}, "GetObject", {"Bucket": "b", "Key": "/lead"}),
        ("GET", "/b/trail/", "", {}, "GetObject", {"Bucket": "b", "Key": "trail/"}),
        # Of a deprecated/current pair with the same route, the current operation answers.
        ("GET", "/b", "lifecycle", {}, "GetBucketLifecycleConfiguration", {"Bucket": "b"}),
    ],
)
def test_s3_requests_find_their_operation(
    router: Router,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    operation: str,
    params: dict[str, str],
) -> None:
    match = router.match(method, path, query, headers)
    assert match is not None
    assert match.operation.name == operation
    assert match.path_params == params


def test_lambda_routes_have_no_twins() -> None:
    """The twin rule changes nothing for a service whose routes are all distinct."""
    session = botocore.session.get_session()
    lam = Router(session.get_service_model("lambda", api_version="2015-03-31"))
    assert not any(r.twin for routes in lam._by_method.values() for r in routes)
