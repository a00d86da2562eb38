"""rest-xml against botocore itself: its serializer makes the requests we parse, its parser
reads the responses we write. So both directions are checked against the real client."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import botocore.session
import pytest
from botocore import parsers, serialize
from botocore.model import OperationModel, ServiceModel

from lambent.api.errors import wire_error
from lambent.api.protocols import restxml
from lambent.auth import chunked
from lambent.errors import S3IncompleteBody, S3MalformedXML, S3NoSuchKey, S3NotModified
from lambent.http.messages import Request, Response

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


@pytest.fixture(scope="module")
def s3() -> ServiceModel:
    return botocore.session.get_session().get_service_model("s3", api_version="2006-03-01")


def op(model: ServiceModel, name: str) -> OperationModel:
    return model.operation_model(name)


def as_request(model: ServiceModel, name: str, params: dict[str, Any]) -> Request:
    """The request botocore would send for `params` (before its signing handlers)."""
    serializer = serialize.create_serializer("rest-xml", include_validation=True)
    wire = serializer.serialize_to_request(params, op(model, name))
    body = wire["body"]
    if not isinstance(body, bytes):
        body = body.read() if hasattr(body, "read") else str(body or "").encode()
    path, _, literal = wire["url_path"].partition("?")
    query = "&".join(q for q in (literal, urlencode(wire["query_string"], doseq=True)) if q)
    headers = {k.lower(): str(v) for k, v in wire["headers"].items()}
    return Request(wire["method"], path, query, headers, body)


def parse_back(model: ServiceModel, name: str, resp: Response) -> dict[str, Any]:
    parser = parsers.create_parser("rest-xml")
    raw = {
        "status_code": resp.status,
        "headers": {k: v for k, v in resp.headers},
        "body": resp.body,
    }
    shape = op(model, name).output_shape
    assert shape is not None
    parsed: dict[str, Any] = parser.parse(raw, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def test_put_object_members_come_from_path_headers_and_raw_body(s3: ServiceModel) -> None:
    params: dict[str, Any] = {
        "Bucket": "code",
        "Key": "dir/a b+c.zip",
        "Body": b"\x00\x01zip bytes",
        "ContentType": "application/zip",
        "Metadata": {"owner": "team-a"},
        "ChecksumCRC32": "AAAAAA==",
        "CacheControl": "no-cache",
        "Expires": dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    }
    req = as_request(s3, "PutObject", params)
    parsed = restxml.parse_request(
        op(s3, "PutObject"), req, {"Bucket": "code", "Key": params["Key"]}
    )
    assert parsed["Body"] == params["Body"]
    assert parsed["Expires"] == params["Expires"]
    for name in ("Bucket", "Key", "ContentType", "Metadata", "ChecksumCRC32", "CacheControl"):
        assert parsed[name] == params[name]


def test_xml_payload_structures_are_parsed_by_shape(s3: ServiceModel) -> None:
    req = as_request(
        s3,
        "CreateBucket",
        {"Bucket": "b", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
    )
    assert NS.encode() in req.body
    parsed = restxml.parse_request(op(s3, "CreateBucket"), req, {"Bucket": "b"})
    assert parsed == {
        "Bucket": "b",
        "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"},
    }

    delete = {"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v1"}], "Quiet": True}
    req = as_request(s3, "DeleteObjects", {"Bucket": "b", "Delete": delete})
    parsed = restxml.parse_request(op(s3, "DeleteObjects"), req, {"Bucket": "b"})
    assert parsed["Delete"] == delete

    tagging = {"TagSet": [{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": ""}]}
    req = as_request(s3, "PutBucketTagging", {"Bucket": "b", "Tagging": tagging})
    parsed = restxml.parse_request(op(s3, "PutBucketTagging"), req, {"Bucket": "b"})
    assert parsed["Tagging"] == tagging


def test_query_members_are_typed(s3: ServiceModel) -> None:
    params = {
        "Bucket": "b",
        "Prefix": "a/",
        "MaxKeys": 7,
        "ContinuationToken": "tok",
        "Delimiter": "/",
    }
    req = as_request(s3, "ListObjectsV2", params)
    assert "list-type=2" in req.raw_query
    parsed = restxml.parse_request(op(s3, "ListObjectsV2"), req, {"Bucket": "b"})
    assert parsed == params


def test_header_dates_are_http_dates(s3: ServiceModel) -> None:
    when = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    req = as_request(s3, "GetObject", {"Bucket": "b", "Key": "k", "IfModifiedSince": when})
    assert req.headers["if-modified-since"] == "Mon, 06 May 2024 07:08:09 GMT"
    parsed = restxml.parse_request(op(s3, "GetObject"), req, {"Bucket": "b", "Key": "k"})
    assert parsed["IfModifiedSince"] == when


def test_aws_chunked_body_is_unframed_and_its_trailer_counts_as_a_header(s3: ServiceModel) -> None:
    data = b"0123456789" * 1000
    body = chunked.encode(data, chunk_size=4096, trailers={"x-amz-checksum-crc32": "abc="})
    headers = {
        "content-encoding": "gzip,aws-chunked",
        "x-amz-content-sha256": chunked.STREAMING_UNSIGNED_TRAILER,
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32",
    }
    req = Request("PUT", "/b/k", "", headers, body)
    parsed = restxml.parse_request(op(s3, "PutObject"), req, {"Bucket": "b", "Key": "k"})
    assert parsed["Body"] == data
    assert parsed["ChecksumCRC32"] == "abc="
    assert parsed["ContentEncoding"] == "gzip"  # aws-chunked is framing, not stored

    headers["x-amz-decoded-content-length"] = str(len(data) + 1)
    with pytest.raises(S3IncompleteBody):
        restxml.parse_request(op(s3, "PutObject"), req, {"Bucket": "b", "Key": "k"})
    bad = Request("PUT", "/b/k", "", headers, b"zz\r\nnot hex")
    with pytest.raises(S3IncompleteBody):
        restxml.parse_request(op(s3, "PutObject"), bad, {"Bucket": "b", "Key": "k"})


def test_malformed_xml_is_malformed_xml(s3: ServiceModel) -> None:
    req = Request("PUT", "/b", "versioning", {}, b"<VersioningConfiguration><Status>")
    with pytest.raises(S3MalformedXML):
        restxml.parse_request(op(s3, "PutBucketVersioning"), req, {"Bucket": "b"})


def test_listing_output_reads_back_through_botocore(s3: ServiceModel) -> None:
    when = dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
    result = {
        "Name": "b",
        "Prefix": "",
        "MaxKeys": 2,
        "KeyCount": 2,
        "IsTruncated": True,
        "Contents": [
            {"Key": "a", "LastModified": when.timestamp(), "ETag": '"x"', "Size": 3},
            {"Key": "b&<c>", "LastModified": when, "ETag": '"y"', "Size": 0},
        ],
        "CommonPrefixes": [{"Prefix": "d/"}],
        "NextContinuationToken": "next",
    }
    resp = restxml.serialize_response(op(s3, "ListObjectsV2"), result, "req-1")
    assert resp.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns=')
    assert b"<LastModified>2024-01-02T03:04:05.678Z</LastModified>" in resp.body
    parsed = parse_back(s3, "ListObjectsV2", resp)
    assert [c["Key"] for c in parsed["Contents"]] == ["a", "b&<c>"]
    assert parsed["Contents"][0]["LastModified"] == when
    assert parsed["CommonPrefixes"] == [{"Prefix": "d/"}]
    assert parsed["IsTruncated"] is True and parsed["NextContinuationToken"] == "next"
    assert ("x-amz-request-id", "req-1") in resp.headers


def test_wrapped_lists_and_nested_structures(s3: ServiceModel) -> None:
    when = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    result = {
        "Buckets": [{"Name": "one", "CreationDate": when}, {"Name": "two", "CreationDate": when}],
        "Owner": {"ID": "abc"},
    }
    resp = restxml.serialize_response(op(s3, "ListBuckets"), result, "r")
    assert b"<ListAllMyBucketsResult" in resp.body and b"<Buckets><Bucket>" in resp.body
    parsed = parse_back(s3, "ListBuckets", resp)
    assert [b["Name"] for b in parsed["Buckets"]] == ["one", "two"]
    assert parsed["Owner"] == {"ID": "abc"}


def test_head_answers_state_the_length_but_carry_no_body(s3: ServiceModel) -> None:
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    result = {
        "ContentLength": 1234,
        "ETag": '"e"',
        "LastModified": when,
        "Metadata": {"owner": "me"},
        "ContentType": "application/zip",
        "VersionId": "v1",
    }
    resp = restxml.serialize_response(op(s3, "HeadObject"), result, "r")
    assert resp.body == b"" and resp.content_length == 1234
    assert ("Last-Modified", "Tue, 02 Jan 2024 03:04:05 GMT") in resp.headers
    assert ("x-amz-meta-owner", "me") in resp.headers
    parsed = parse_back(s3, "HeadObject", resp)
    assert parsed["LastModified"] == when and parsed["Metadata"] == {"owner": "me"}
    assert parsed["VersionId"] == "v1" and parsed["ETag"] == '"e"'


def test_a_ranged_get_is_partial_content(s3: ServiceModel) -> None:
    whole = restxml.serialize_response(op(s3, "GetObject"), {"Body": b"abc"}, "r")
    assert whole.status == 200 and whole.body == b"abc"
    part = restxml.serialize_response(
        op(s3, "GetObject"), {"Body": b"b", "ContentRange": "bytes 1-1/3"}, "r"
    )
    assert part.status == 206 and part.body == b"b"


def test_structure_payload_and_root_value_outputs(s3: ServiceModel) -> None:
    copy = {"CopyObjectResult": {"ETag": '"e"', "LastModified": 0.0}, "VersionId": "v"}
    resp = restxml.serialize_response(op(s3, "CopyObject"), copy, "r")
    assert b"<CopyObjectResult xmlns=" in resp.body
    assert parse_back(s3, "CopyObject", resp)["CopyObjectResult"]["ETag"] == '"e"'

    resp = restxml.serialize_response(
        op(s3, "GetBucketLocation"), {"LocationConstraint": "eu-west-1"}, "r"
    )
    assert resp.body.endswith(
        f'<LocationConstraint xmlns="{NS}">eu-west-1</LocationConstraint>'.encode()
    )

    resp = restxml.serialize_response(op(s3, "GetBucketVersioning"), {}, "r")
    assert resp.body.endswith(
        f'<VersioningConfiguration xmlns="{NS}"></VersioningConfiguration>'.encode()
    )
    assert parse_back(s3, "GetBucketVersioning", resp) == {}


def test_errors_are_s3_error_documents(s3: ServiceModel) -> None:
    missing = S3NoSuchKey("a&b")
    resp = restxml.serialize_error(
        wire_error("s3", missing), missing.message, missing.fields, "req-9"
    )
    assert resp.status == 404
    parser = parsers.create_parser("rest-xml")
    raw = {"status_code": 404, "headers": dict(resp.headers), "body": resp.body}
    shape = op(s3, "GetObject").output_shape
    assert shape is not None
    parsed = parser.parse(raw, shape)
    assert parsed["Error"]["Code"] == "NoSuchKey"
    assert parsed["Error"]["Message"] == "The specified key does not exist."
    assert parsed["Error"]["Key"] == "a&b"
    assert parsed["ResponseMetadata"]["RequestId"] == "req-9"

    same = S3NotModified("Not Modified", etag='"e"')
    not_modified = restxml.serialize_error(wire_error("s3", same), same.message, {}, "r")
    assert not_modified.status == 304 and not_modified.body == b""
