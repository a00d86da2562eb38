"""Zip uploads as Lambda limits them: request size first, then the archive itself.

AWS turns away an oversized direct upload before it parses the request: the limit is the
base64 size of a 50 MB zip (69905067 bytes), plus 256 KiB of other parameters for
CreateFunction (70167211 bytes), answered 413 RequestEntityTooLargeException.
"""

from __future__ import annotations

from typing import Protocol

from lambent.blobs.store import BlobInfo
from lambent.errors import RequestTooLarge


class Blobs(Protocol):
    def check_zip(self, data: bytes) -> None: ...

    def put(self, data: bytes) -> BlobInfo: ...


def request_limit(zipped_limit: int, operation: str) -> int:
    encoded = -(-zipped_limit * 4 // 3)  # base64 of the largest zip
    return encoded + (256 * 1024 if operation == "CreateFunction" else 0)


def too_large(limit: int, operation: str) -> RequestTooLarge:
    return RequestTooLarge(
        f"Request must be smaller than {limit} bytes for the {operation} operation",
        code="RequestEntityTooLargeException",
    )


class ZipUploads:
    def __init__(self, blobs: Blobs, zipped_limit: int) -> None:
        self._blobs = blobs
        self._zipped_limit = zipped_limit

    def check_request(self, body_size: int, operation: str) -> None:
        limit = request_limit(self._zipped_limit, operation)
        if body_size > limit:
            raise too_large(limit, operation)

    def store(self, data: bytes, operation: str) -> BlobInfo:
        if len(data) > self._zipped_limit:
            raise too_large(request_limit(self._zipped_limit, operation), operation)
        self._blobs.check_zip(data)
        return self._blobs.put(data)
