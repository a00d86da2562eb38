"""The `aws-chunked` body framing of SigV4 streaming uploads, and its chunk signatures.

A streaming upload (S3 PutObject from an SDK that does not know the length up front, or one
that sends its checksum after the data) frames the payload as

    <hex size>[;chunk-signature=<sig>] CRLF <data> CRLF        (repeated)
    0[;chunk-signature=<sig>] CRLF
    [<trailer>:<value> CRLF ...] [x-amz-trailer-signature:<sig> CRLF] CRLF

`x-amz-content-sha256` says which flavour it is. With STREAMING-AWS4-HMAC-SHA256-PAYLOAD
every chunk (the empty final one too) is signed, each signature chained to the previous
one, starting from the request's own signature (the "seed"); the -TRAILER variant adds a
signature over the trailing headers. STREAMING-UNSIGNED-PAYLOAD-TRAILER carries no
signatures: only the trailing checksum vouches for the data. The framing is HTTP-level, so
it lives here beside SigV4 rather than in any one service.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
# Payload hashes that stand for themselves in the canonical request.
LITERAL_PAYLOAD_HASHES = frozenset(
    {UNSIGNED_PAYLOAD, STREAMING_UNSIGNED_TRAILER, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER}
)
SIGNED_STREAMING = frozenset({STREAMING_SIGNED, STREAMING_SIGNED_TRAILER})

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_SIGNATURE_PARAM = "chunk-signature="
_TRAILER_SIGNATURE = "x-amz-trailer-signature"
_MAX_HEADER_LINE = 4096


class MalformedChunks(ValueError):
    """The body does not follow the aws-chunked framing."""


@dataclass(frozen=True, slots=True)
class Chunk:
    data: memoryview
    signature: str | None


@dataclass(frozen=True, slots=True)
class ChunkedBody:
    chunks: tuple[Chunk, ...]  # the empty final chunk included
    trailers: dict[str, str]  # lower-cased names, the trailer signature excluded
    trailer_lines: tuple[str, ...]  # "name:value" as sent, for the trailer signature
    trailer_signature: str | None

    def payload(self) -> bytes:
        return b"".join(chunk.data for chunk in self.chunks)

    @property
    def size(self) -> int:
        return sum(len(chunk.data) for chunk in self.chunks)


def _line(view: memoryview, pos: int) -> tuple[str, int]:
    """The text up to the next CRLF from `pos`, and the position after it."""
    end = bytes(view[pos : pos + _MAX_HEADER_LINE]).find(b"\r\n")
    if end < 0:
        raise MalformedChunks("a chunk header or trailer is not terminated by CRLF")
    text = bytes(view[pos : pos + end]).decode("latin-1")
    return text, pos + end + 2


def _chunk_header(text: str) -> tuple[int, str | None]:
    size_text, _, ext = text.partition(";")
    try:
        size = int(size_text.strip(), 16)
    except ValueError as exc:
        raise MalformedChunks(f"invalid chunk size {size_text!r}") from exc
    if size < 0:
        raise MalformedChunks("negative chunk size")
    signature = None
    if ext:
        ext = ext.strip()
        if not ext.startswith(_SIGNATURE_PARAM):
            raise MalformedChunks(f"unknown chunk extension {ext!r}")
        signature = ext[len(_SIGNATURE_PARAM) :]
    return size, signature


def parse(body: bytes) -> ChunkedBody:
    """Split an aws-chunked body into its chunks and trailers (slices, no copies)."""
    view = memoryview(body)
    pos = 0
    chunks: list[Chunk] = []
    while True:
        header, pos = _line(view, pos)
        size, signature = _chunk_header(header)
        if size == 0:
            chunks.append(Chunk(view[pos:pos], signature))
            break
        end = pos + size
        if end + 2 > len(view) or bytes(view[end : end + 2]) != b"\r\n":
            raise MalformedChunks("a chunk is shorter than its declared size")
        chunks.append(Chunk(view[pos:end], signature))
        pos = end + 2
    trailers: dict[str, str] = {}
    lines: list[str] = []
    trailer_signature = None
    while pos < len(view):
        text, pos = _line(view, pos)
        if text == "":
            break
        name, colon, value = text.partition(":")
        if not colon:
            raise MalformedChunks(f"malformed trailer {text!r}")
        key = name.strip().lower()
        if key == _TRAILER_SIGNATURE:
            trailer_signature = value.strip()
        else:
            trailers[key] = value.strip()
            lines.append(f"{key}:{value.strip()}")
    if pos != len(view):
        raise MalformedChunks("data after the final chunk")
    return ChunkedBody(tuple(chunks), trailers, tuple(lines), trailer_signature)


def chunk_string_to_sign(amz_date: str, scope: str, previous: str, data: bytes | memoryview) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{_EMPTY_SHA256}\n{digest}"


def trailer_string_to_sign(amz_date: str, scope: str, previous: str, lines: tuple[str, ...]) -> str:
    canonical = "".join(f"{line}\n" for line in lines).encode()
    digest = hashlib.sha256(canonical).hexdigest()
    return f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n{digest}"


def _sign(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def verify_signatures(
    body: ChunkedBody,
    *,
    key: bytes,
    amz_date: str,
    scope: str,
    seed: str,
    with_trailer: bool,
) -> bool:
    """True when every chunk signature (and the trailer's, if expected) chains from `seed`."""
    previous = seed
    for chunk in body.chunks:
        if chunk.signature is None:
            return False
        expected = _sign(key, chunk_string_to_sign(amz_date, scope, previous, chunk.data))
        if not hmac.compare_digest(expected, chunk.signature):
            return False
        previous = expected
    if not with_trailer:
        return body.trailer_signature is None and not body.trailers
    if body.trailer_signature is None:
        return False
    expected = _sign(key, trailer_string_to_sign(amz_date, scope, previous, body.trailer_lines))
    return hmac.compare_digest(expected, body.trailer_signature)


def encode(
    data: bytes,
    *,
    chunk_size: int = 64 * 1024,
    trailers: dict[str, str] | None = None,
    signing: tuple[bytes, str, str, str] | None = None,
) -> bytes:
    """Frame `data` as aws-chunked; `signing` = (key, amz_date, scope, seed) signs each chunk.

    Used by Lambent's own clients and tests, so the encoder and the parser are one contract.
    """
    parts: list[bytes] = []
    previous = signing[3] if signing else ""
    pieces = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    for piece in pieces:
        ext = ""
        if signing is not None:
            key, amz_date, scope, _ = signing
            previous = _sign(key, chunk_string_to_sign(amz_date, scope, previous, piece))
            ext = f";{_SIGNATURE_PARAM}{previous}"
        parts.append(f"{len(piece):x}{ext}\r\n".encode())
        if piece:
            parts.append(piece + b"\r\n")
    lines = tuple(f"{k.lower()}:{v}" for k, v in (trailers or {}).items())
    parts.extend(f"{line}\r\n".encode() for line in lines)
    if signing is not None and trailers:
        key, amz_date, scope, _ = signing
        sig = _sign(key, trailer_string_to_sign(amz_date, scope, previous, lines))
        parts.append(f"{_TRAILER_SIGNATURE}:{sig}\r\n".encode())
    parts.append(b"\r\n")
    return b"".join(parts)
