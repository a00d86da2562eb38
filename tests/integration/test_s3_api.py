"""S3 through real boto3 (and raw signed HTTP) against a real `lambent serve` (sigv4 auth)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from lambent.auth import chunked, sigv4
from lambent.s3 import checksums
from tests.support import ServerProcess, create_account

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(server: ServerProcess) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def other_keys(server: ServerProcess) -> Iterator[tuple[str, str]]:
    """Root keys of a second account, made the way an operator would."""
    _, cred = create_account(server.data_dir)
    yield cred.access_key, cred.secret


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def error_field(err: pytest.ExceptionInfo[ClientError], name: str) -> str:
    """An S3 error's extra element (BucketName, Key, ...), which botocore passes through."""
    fields: dict[str, Any] = dict(err.value.response["Error"])
    return str(fields[name])


def status(err: pytest.ExceptionInfo[ClientError]) -> int:
    return int(err.value.response["ResponseMetadata"]["HTTPStatusCode"])


def raw_put(
    server: ServerProcess,
    path: str,
    body: bytes,
    payload_hash: str,
    headers: dict[str, str],
    *,
    frame: Any = None,
) -> tuple[int, bytes]:
    """A PUT signed by Lambent's own SigV4 code; `frame(seed_signature, signed)` builds the
    body when it depends on the signature (signed aws-chunked)."""
    key, secret = server.credentials()
    signed = sigv4.sign_headers(
        method="PUT",
        url_path=path,
        query="",
        headers={"host": f"127.0.0.1:{server.port}", **headers},
        body=body,
        access_key=key,
        secret=secret,
        region="us-east-1",
        service="s3",
        payload_hash=payload_hash,
    )
    if frame is not None:
        body = frame(signed["authorization"].rpartition("Signature=")[2], signed)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("PUT", path, body=body, headers=signed)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_bucket_lifecycle(s3: Any) -> None:
    assert s3.create_bucket(Bucket="life-cycle")["Location"] == "/life-cycle"
    head = s3.head_bucket(Bucket="life-cycle")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert "life-cycle" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_bucket_location(Bucket="life-cycle")["LocationConstraint"] is None
    s3.put_bucket_tagging(
        Bucket="life-cycle", Tagging={"TagSet": [{"Key": "env", "Value": "test"}]}
    )
    assert s3.get_bucket_tagging(Bucket="life-cycle")["TagSet"] == [{"Key": "env", "Value": "test"}]
    with pytest.raises(ClientError) as err:
        s3.get_object_lock_configuration(Bucket="life-cycle")
    assert code(err) == "ObjectLockConfigurationNotFoundError"
    s3.delete_bucket(Bucket="life-cycle")
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket="life-cycle")
    assert code(err) == "404"  # a HEAD answer has no body: the code is the status
    with pytest.raises(ClientError) as err:
        s3.get_bucket_location(Bucket="life-cycle")
    assert code(err) == "NoSuchBucket" and status(err) == 404
    assert error_field(err, "BucketName") == "life-cycle"


def test_bucket_errors(server: ServerProcess, s3: Any, other_keys: tuple[str, str]) -> None:
    west = server.client("s3", region_name="us-west-2")
    west.create_bucket(
        Bucket="west-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    assert west.get_bucket_location(Bucket="west-bucket")["LocationConstraint"] == "us-west-2"
    with pytest.raises(ClientError) as err:
        west.create_bucket(
            Bucket="west-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
    assert code(err) == "BucketAlreadyOwnedByYou" and status(err) == 409
    with pytest.raises(ClientError) as err:
        west.create_bucket(Bucket="no-constraint")
    assert code(err) == "IllegalLocationConstraintException"
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket="Not_Valid")
    assert code(err) == "InvalidBucketName"

    other = server.client("s3", keys=other_keys)
    with pytest.raises(ClientError) as err:
        other.create_bucket(Bucket="west-bucket")
    assert code(err) == "BucketAlreadyExists" and status(err) == 409
    with pytest.raises(ClientError) as err:
        other.list_objects_v2(Bucket="west-bucket")
    assert code(err) == "AccessDenied" and status(err) == 403
    assert "west-bucket" not in [b["Name"] for b in other.list_buckets()["Buckets"]]

    s3.create_bucket(Bucket="not-empty")
    s3.put_object(Bucket="not-empty", Key="k", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.delete_bucket(Bucket="not-empty")
    assert code(err) == "BucketNotEmpty" and status(err) == 409

    bad = server.client("s3", keys=(server.credentials()[0], "not-the-secret"))
    with pytest.raises(ClientError) as err:
        bad.list_buckets()
    assert code(err) == "SignatureDoesNotMatch" and status(err) == 403


KEYS = ["plain.zip", "dir/a b+c.zip", "dir/ünï©ødé", "dir/q?x=1#frag", "dir/100%", "dir/"]


@pytest.mark.parametrize("key", KEYS)
def test_object_round_trip(s3: Any, key: str) -> None:
    s3.create_bucket(Bucket="round-trip")
    body = b"\x00binary\xff" + key.encode()
    put = s3.put_object(
        Bucket="round-trip",
        Key=key,
        Body=body,
        ContentType="application/zip",
        Metadata={"owner": "team"},
        CacheControl="no-cache",
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket="round-trip", Key=key)
    assert got["Body"].read() == body
    assert got["ETag"] == put["ETag"] and got["ContentLength"] == len(body)
    assert got["ContentType"] == "application/zip" and got["Metadata"] == {"owner": "team"}
    assert got["CacheControl"] == "no-cache"
    head = s3.head_object(Bucket="round-trip", Key=key)
    assert head["ContentLength"] == len(body) and head["ETag"] == put["ETag"]
    listed = s3.list_objects_v2(Bucket="round-trip", Prefix=key)
    assert key in [o["Key"] for o in listed["Contents"]]
    s3.delete_object(Bucket="round-trip", Key=key)
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="round-trip", Key=key)
    assert code(err) == "NoSuchKey" and error_field(err, "Key") == key


def test_ranges_and_conditions(s3: Any) -> None:
    s3.create_bucket(Bucket="ranges")
    etag = s3.put_object(Bucket="ranges", Key="k", Body=b"0123456789")["ETag"]
    part = s3.get_object(Bucket="ranges", Key="k", Range="bytes=2-4")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["Body"].read() == b"234" and part["ContentRange"] == "bytes 2-4/10"
    assert s3.get_object(Bucket="ranges", Key="k", Range="bytes=-3")["Body"].read() == b"789"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="ranges", Key="k", Range="bytes=10-")
    assert code(err) == "InvalidRange" and status(err) == 416
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="ranges", Key="k", IfNoneMatch=etag)
    assert status(err) == 304
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="ranges", Key="k", IfMatch='"not-it"')
    assert code(err) == "PreconditionFailed" and status(err) == 412
    assert s3.get_object(Bucket="ranges", Key="k", IfMatch=etag)["Body"].read() == b"0123456789"
    empty = s3.put_object(Bucket="ranges", Key="empty", Body=b"")
    assert empty["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    assert s3.get_object(Bucket="ranges", Key="empty")["Body"].read() == b""


def test_listing_pages_prefixes_and_markers(s3: Any) -> None:
    s3.create_bucket(Bucket="listing")
    keys = sorted([f"logs/{i:02d}.txt" for i in range(20)] + ["a", "b/1", "b/2", "c+d e"])
    for key in keys:
        s3.put_object(Bucket="listing", Key=key, Body=key.encode())
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket="listing", PaginationConfig={"PageSize": 7}
    )
    seen = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert seen == keys
    top = s3.list_objects_v2(Bucket="listing", Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["a", "c+d e"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["b/", "logs/"]
    assert top["KeyCount"] == 4 and not top["IsTruncated"]
    first = s3.list_objects_v2(Bucket="listing", Prefix="logs/", MaxKeys=5)
    assert first["IsTruncated"] and first["KeyCount"] == 5
    nxt = s3.list_objects_v2(
        Bucket="listing", Prefix="logs/", ContinuationToken=first["NextContinuationToken"]
    )
    assert [o["Key"] for o in nxt["Contents"]] == [f"logs/{i:02d}.txt" for i in range(5, 20)]
    owned = s3.list_objects_v2(Bucket="listing", Prefix="a", FetchOwner=True)
    assert len(owned["Contents"][0]["Owner"]["ID"]) == 64
    assert "Owner" not in s3.list_objects_v2(Bucket="listing", Prefix="a")["Contents"][0]
    after = s3.list_objects_v2(Bucket="listing", StartAfter="logs/18.txt")
    assert [o["Key"] for o in after["Contents"]] == ["logs/19.txt"]
    v1 = s3.list_objects(Bucket="listing", Marker="b/2", MaxKeys=2)
    assert [o["Key"] for o in v1["Contents"]] == ["c+d e", "logs/00.txt"] and v1["IsTruncated"]
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket="listing", ContinuationToken="%%%")
    assert code(err) == "InvalidArgument"


def test_versions(s3: Any) -> None:
    s3.create_bucket(Bucket="versioned")
    assert "Status" not in s3.get_bucket_versioning(Bucket="versioned")
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="versioned")["Status"] == "Enabled"
    v1 = s3.put_object(Bucket="versioned", Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="versioned", Key="k", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket="versioned", Key="k", VersionId=v1)["Body"].read() == b"one"
    got = s3.get_object(Bucket="versioned", Key="k")
    assert got["VersionId"] == v2 and got["Body"].read() == b"two"
    gone = s3.delete_object(Bucket="versioned", Key="k")
    assert gone["DeleteMarker"] is True
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="versioned", Key="k")
    assert code(err) == "NoSuchKey"
    assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="versioned", Key="k", VersionId="not-a-version-of-this-key")
    assert code(err) == "NoSuchVersion"
    listed = s3.list_object_versions(Bucket="versioned")
    assert [v["VersionId"] for v in listed["Versions"]] == [v2, v1]
    assert [v["IsLatest"] for v in listed["Versions"]] == [False, False]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [
        (gone["VersionId"], True)
    ]
    s3.delete_object(Bucket="versioned", Key="k", VersionId=gone["VersionId"])
    assert s3.get_object(Bucket="versioned", Key="k")["Body"].read() == b"two"
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket="versioned", Key="k", Body=b"n")["VersionId"] == "null"
    with pytest.raises(ClientError) as err:
        s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Off"})
    assert code(err) == "InvalidArgument" and status(err) == 400  # the model's enum


def test_copy_and_batch_delete(s3: Any) -> None:
    s3.create_bucket(Bucket="copies")
    s3.put_object(
        Bucket="copies", Key="src", Body=b"data", ContentType="text/plain", Metadata={"a": "1"}
    )
    done = s3.copy_object(
        Bucket="copies", Key="same", CopySource={"Bucket": "copies", "Key": "src"}
    )
    assert done["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"data").hexdigest()}"'
    same = s3.get_object(Bucket="copies", Key="same")
    assert same["Body"].read() == b"data" and same["Metadata"] == {"a": "1"}
    s3.copy_object(
        Bucket="copies",
        Key="new",
        CopySource="copies/src",
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="application/json",
    )
    new = s3.head_object(Bucket="copies", Key="new")
    assert new["Metadata"] == {"b": "2"} and new["ContentType"] == "application/json"
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket="copies", Key="src", CopySource="copies/src")
    assert code(err) == "InvalidRequest"
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket="copies", Key="x", CopySource="copies/missing")
    assert code(err) == "NoSuchKey"
    result = s3.delete_objects(
        Bucket="copies", Delete={"Objects": [{"Key": "src"}, {"Key": "same"}, {"Key": "new"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["new", "same", "src"]
    assert s3.list_objects_v2(Bucket="copies")["KeyCount"] == 0


def test_checksums_are_verified_stored_and_returned(s3: Any) -> None:
    s3.create_bucket(Bucket="sums")
    body = b"checksummed"
    put = s3.put_object(Bucket="sums", Key="k", Body=body, ChecksumAlgorithm="SHA256")
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert put["ChecksumSHA256"] == sha
    got = s3.get_object(Bucket="sums", Key="k", ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == sha and got["Body"].read() == body  # botocore validates too
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="sums", Key="k", Body=body, ChecksumCRC32="AAAAAA==")
    assert code(err) == "BadDigest"
    assert "The CRC32 you specified did not match" in err.value.response["Error"]["Message"]
    md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="sums", Key="k", Body=body, ContentMD5=md5)
    assert code(err) == "BadDigest"


def test_aws_chunked_upload_with_a_trailing_checksum(server: ServerProcess) -> None:
    """botocore's own aws-chunked encoder (what it sends over TLS), on this plain endpoint."""
    client = server.client("s3")
    sent: list[dict[str, str]] = []

    def trailer(params: dict[str, Any], **_: Any) -> None:
        algorithm = params["context"].get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict):
            algorithm["in"] = "trailer"

    def record(request: Any, **_: Any) -> None:
        sent.append(
            {
                k.lower(): v.decode() if isinstance(v, bytes) else str(v)
                for k, v in request.headers.items()
            }
        )

    client.meta.events.register("before-call.s3.PutObject", trailer)
    client.meta.events.register("before-send.s3.PutObject", record)
    client.create_bucket(Bucket="chunked")
    data = bytes(range(256)) * 9000  # > 2 MiB: several 1 MiB chunks
    client.put_object(Bucket="chunked", Key="big.bin", Body=data)
    assert sent[-1]["content-encoding"] == "aws-chunked"
    assert sent[-1]["x-amz-content-sha256"] == chunked.STREAMING_UNSIGNED_TRAILER
    assert sent[-1]["x-amz-trailer"] == "x-amz-checksum-crc32"
    got = client.get_object(Bucket="chunked", Key="big.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumCRC32"] == checksums.encoded("CRC32", data)
    assert "ContentEncoding" not in got  # the framing is not stored


def test_aws_chunked_with_a_wrong_trailing_checksum(server: ServerProcess, s3: Any) -> None:
    s3.create_bucket(Bucket="chunked-bad")
    data = b"some data"
    body = chunked.encode(data, trailers={"x-amz-checksum-crc32": "AAAAAA=="})
    headers = {
        "content-encoding": "aws-chunked",
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": str(len(data)),
    }
    status_, body_ = raw_put(
        server, "/chunked-bad/k", body, chunked.STREAMING_UNSIGNED_TRAILER, headers
    )
    assert status_ == 400 and b"<Code>BadDigest</Code>" in body_
    short = dict(headers, **{"x-amz-decoded-content-length": "3"})
    good = chunked.encode(data, trailers={"x-amz-checksum-crc32": checksums.encoded("CRC32", data)})
    status_, body_ = raw_put(
        server, "/chunked-bad/k", good, chunked.STREAMING_UNSIGNED_TRAILER, short
    )
    assert status_ == 400 and b"<Code>IncompleteBody</Code>" in body_


@pytest.mark.parametrize("mode", [chunked.STREAMING_SIGNED, chunked.STREAMING_SIGNED_TRAILER])
def test_signed_streaming_upload(server: ServerProcess, s3: Any, mode: str) -> None:
    s3.create_bucket(Bucket="signed-stream")
    data = b"signed chunks " * 5000
    trailers = (
        {"x-amz-checksum-crc32": checksums.encoded("CRC32", data)}
        if mode == chunked.STREAMING_SIGNED_TRAILER
        else None
    )
    headers = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))}
    if trailers:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    _, secret = server.credentials()

    def frame(seed: str, signed: dict[str, str], tamper: bool = False) -> bytes:
        amz_date = signed["x-amz-date"]
        scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
        key = sigv4.signing_key(secret, amz_date[:8], "us-east-1", "s3")
        payload = data.replace(b"signed", b"Signed", 1) if tamper else data
        framed = chunked.encode(
            payload, chunk_size=16384, trailers=trailers, signing=(key, amz_date, scope, seed)
        )
        return framed.replace(b"Signed", b"signed", 1) if tamper else framed

    status_, _ = raw_put(server, "/signed-stream/k", b"", mode, headers, frame=frame)
    assert status_ == 200
    assert s3.get_object(Bucket="signed-stream", Key="k")["Body"].read() == data
    status_, body_ = raw_put(
        server, "/signed-stream/t", b"", mode, headers, frame=lambda s, h: frame(s, h, True)
    )
    assert status_ == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body_


def test_declared_payload_hash_must_match(server: ServerProcess, s3: Any) -> None:
    s3.create_bucket(Bucket="sha-mismatch")
    wrong = hashlib.sha256(b"something else").hexdigest()
    status_, body_ = raw_put(server, "/sha-mismatch/k", b"actual body", wrong, {})
    assert status_ == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in body_
    right = hashlib.sha256(b"actual body").hexdigest()
    assert raw_put(server, "/sha-mismatch/k", b"actual body", right, {})[0] == 200
    unsigned = raw_put(server, "/sha-mismatch/u", b"unsigned", chunked.UNSIGNED_PAYLOAD, {})
    assert unsigned[0] == 200


def test_multipart_upload_through_s3transfer(s3: Any) -> None:
    s3.create_bucket(Bucket="multipart")
    data = os.urandom(12 * 1024 * 1024 + 7)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_fileobj(io.BytesIO(data), "multipart", "big.zip", Config=config)
    head = s3.head_object(Bucket="multipart", Key="big.zip")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-3"')
    back = io.BytesIO()
    s3.download_fileobj("multipart", "big.zip", back, Config=config)  # ranged GETs
    assert back.getvalue() == data


def test_multipart_errors(s3: Any) -> None:
    s3.create_bucket(Bucket="multipart-errors")
    upload = s3.create_multipart_upload(Bucket="multipart-errors", Key="k")["UploadId"]
    first = s3.upload_part(
        Bucket="multipart-errors", Key="k", UploadId=upload, PartNumber=1, Body=b"too small"
    )
    second = s3.upload_part(
        Bucket="multipart-errors", Key="k", UploadId=upload, PartNumber=2, Body=b"last"
    )
    parts = [
        {"PartNumber": 1, "ETag": first["ETag"]},
        {"PartNumber": 2, "ETag": second["ETag"]},
    ]
    for listed, expected in (
        (parts, "EntityTooSmall"),
        (parts[::-1], "InvalidPartOrder"),
        ([{"PartNumber": 1, "ETag": second["ETag"]}], "InvalidPart"),
    ):
        with pytest.raises(ClientError) as err:
            s3.complete_multipart_upload(
                Bucket="multipart-errors",
                Key="k",
                UploadId=upload,
                MultipartUpload={"Parts": listed},
            )
        assert code(err) == expected and status(err) == 400
    done = s3.complete_multipart_upload(
        Bucket="multipart-errors", Key="k", UploadId=upload, MultipartUpload={"Parts": parts[1:]}
    )
    assert done["ETag"].endswith('-1"') and done["Key"] == "k"
    assert s3.get_object(Bucket="multipart-errors", Key="k")["Body"].read() == b"last"
    aborted = s3.create_multipart_upload(Bucket="multipart-errors", Key="a")["UploadId"]
    s3.abort_multipart_upload(Bucket="multipart-errors", Key="a", UploadId=aborted)
    with pytest.raises(ClientError) as err:
        s3.upload_part(
            Bucket="multipart-errors", Key="a", UploadId=aborted, PartNumber=1, Body=b"x"
        )
    assert code(err) == "NoSuchUpload" and status(err) == 404
