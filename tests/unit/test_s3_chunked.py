"""aws-chunked framing and SigV4 streaming signatures, and S3's canonical URI rule."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambent.auth import chunked, sigv4

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def test_unsigned_framing_round_trips_with_trailers() -> None:
    data = bytes(range(256)) * 300
    body = chunked.encode(data, chunk_size=8192, trailers={"x-amz-checksum-crc32": "AAAAAA=="})
    parsed = chunked.parse(body)
    assert parsed.payload() == data and parsed.size == len(data)
    assert [len(c.data) for c in parsed.chunks][-2:] == [len(data) % 8192, 0]
    assert parsed.trailers == {"x-amz-checksum-crc32": "AAAAAA=="}
    assert parsed.trailer_signature is None
    assert all(c.signature is None for c in parsed.chunks)


def test_botocore_framing_parses() -> None:
    """The exact bytes botocore's AwsChunkedWrapper writes for a trailing CRC32."""
    body = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
    parsed = chunked.parse(body)
    assert parsed.payload() == b"hello world"
    assert parsed.trailers == {"x-amz-checksum-crc32": "DUoRhQ=="}


def test_empty_payload() -> None:
    assert chunked.parse(b"0\r\n\r\n").payload() == b""


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"zz\r\nabc\r\n0\r\n\r\n",  # size is not hex
        b"5\r\nabc\r\n0\r\n\r\n",  # shorter than declared
        b"3\r\nabcX\r\n0\r\n\r\n",  # no CRLF after the data
        b"3\r\nabc\r\n0\r\n\r\nextra",  # bytes after the end
        b"3;foo=bar\r\nabc\r\n0\r\n\r\n",  # unknown extension
        b"3\r\nabc\r\n0\r\nno-colon\r\n\r\n",  # malformed trailer
        b"3\r\nabc\r\n0",  # unterminated
    ],
)
def test_malformed_framing_is_rejected(body: bytes) -> None:
    with pytest.raises(chunked.MalformedChunks):
        chunked.parse(body)


def _signed(
    data: bytes, mode: str, trailers: dict[str, str] | None = None
) -> tuple[dict[str, str], bytes, str]:
    headers = sigv4.sign_headers(
        method="PUT",
        url_path="/bucket/key",
        query="",
        headers={"host": "127.0.0.1:9000", "x-amz-decoded-content-length": str(len(data))},
        body=b"",
        access_key=KEY,
        secret=SECRET,
        region="us-east-1",
        service="s3",
        now=NOW,
        payload_hash=mode,
    )
    seed = headers["authorization"].rpartition("Signature=")[2]
    amz_date = headers["x-amz-date"]
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    key = sigv4.signing_key(SECRET, amz_date[:8], "us-east-1", "s3")
    body = chunked.encode(
        data, chunk_size=1000, trailers=trailers, signing=(key, amz_date, scope, seed)
    )
    return headers, body, seed


def _verify(headers: dict[str, str], body: bytes) -> bool:
    auth = sigv4.parse_authorization(headers["authorization"])
    return sigv4.verify(auth, SECRET, "PUT", "/bucket/key", "", headers, body, NOW.timestamp())


def test_signed_chunks_chain_from_the_seed_signature() -> None:
    headers, body, _ = _signed(b"x" * 2500, chunked.STREAMING_SIGNED)
    assert b";chunk-signature=" in body
    assert _verify(headers, body)
    tampered = body.replace(b"xxxx", b"xxxy", 1)
    assert not _verify(headers, tampered)
    # Chunks replayed in another order break the chain.
    parsed = chunked.parse(body)
    assert len(parsed.chunks) == 4
    swapped = body.replace(b"0;chunk-signature=", b"0;chunk-signature=0", 1)
    assert not _verify(headers, swapped)


def test_signed_trailer_is_checked() -> None:
    trailers = {"x-amz-checksum-crc32": "AAAAAA=="}
    headers, body, _ = _signed(b"y" * 10, chunked.STREAMING_SIGNED_TRAILER, trailers)
    assert b"x-amz-trailer-signature:" in body
    assert _verify(headers, body)
    assert not _verify(headers, body.replace(b"AAAAAA==", b"BBBBBB=="))
    # The same body declared as the no-trailer variant is refused: the trailer is unsigned.
    unsigned_mode = dict(headers, **{"x-amz-content-sha256": chunked.STREAMING_SIGNED})
    assert not _verify(unsigned_mode, body)


def test_unsigned_payload_literals_are_signed_as_sent() -> None:
    for literal in (chunked.UNSIGNED_PAYLOAD, chunked.STREAMING_UNSIGNED_TRAILER):
        headers = sigv4.sign_headers(
            method="PUT",
            url_path="/bucket/key",
            query="",
            headers={"host": "h"},
            body=b"",
            access_key=KEY,
            secret=SECRET,
            region="us-east-1",
            service="s3",
            now=NOW,
            payload_hash=literal,
        )
        assert _verify(headers, b"anything at all")


def test_s3_paths_are_signed_as_sent_by_botocore() -> None:
    """botocore signs S3 paths without normalizing or re-encoding them."""
    for path in ("/bucket/a%20b%2Bc/../d.zip", "/bucket/dir//x", "/bucket/%E2%9C%93"):
        request = AWSRequest(method="GET", url=f"http://127.0.0.1:9000{path}?list-type=2")
        S3SigV4Auth(Credentials(KEY, SECRET), "s3", "us-east-1").add_auth(request)
        headers = {k.lower(): str(v) for k, v in request.headers.items()}
        headers["host"] = "127.0.0.1:9000"
        auth = sigv4.parse_authorization(headers["authorization"])
        signed_at = sigv4.request_time(headers)
        assert sigv4.verify(auth, SECRET, "GET", path, "list-type=2", headers, b"", signed_at)
        assert not sigv4.verify(auth, "wrong", "GET", path, "list-type=2", headers, b"", signed_at)
        assert sigv4.canonical_uri(path, normalize=False) == path
