"""Zip uploads as Lambda limits them: request size first, then the archive itself.

AWS turns away a ZipFile over 50 MB (52428800 bytes) with 413 RequestEntityTooLargeException
"Zipped size must be smaller than 52428800 bytes", before it looks at the request's size:
the base64 size of a 50 MB zip (69905067 bytes), plus 256 KiB of other parameters for
CreateFunction (70167211 bytes), answered 413 too.

Code can also come from S3 (S3Bucket, S3Key, S3ObjectVersion): then the 50 MB zipped limit
does not apply (only the unzipped one does), and a failed read is reported the way Lambda
reports it: InvalidParameterValueException "Error occurred while GetObject. S3 Error Code:
NoSuchKey. S3 Error Message: The specified key does not exist."
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from lambent.blobs.store import BlobInfo
from lambent.blocking import BlockingWork
from lambent.errors import InvalidParameterValue, RequestTooLarge, ServiceError

S3_UNAVAILABLE = (
    "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: "
    "The specified bucket does not exist"
)


class Blobs(Protocol):
    def check_zip(self, data: bytes) -> None: ...

    def put(self, data: bytes) -> BlobInfo: ...


def request_limit(zipped_limit: int, operation: str) -> int:
    encoded = -(-zipped_limit * 4 // 3)  # base64 of the largest zip
    return encoded + (256 * 1024 if operation == "CreateFunction" else 0)


def zip_too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(
        f"Zipped size must be smaller than {limit} bytes", code="RequestEntityTooLargeException"
    )


def too_large(limit: int, operation: str) -> RequestTooLarge:
    return RequestTooLarge(
        f"Request must be smaller than {limit} bytes for the {operation} operation",
        code="RequestEntityTooLargeException",
    )


class CodeObjects(Protocol):
    """Where S3-hosted code is read from (lambent.s3.service.S3)."""

    async def read_object(
        self, account: str, region: str, bucket: str, key: str, version_id: str | None
    ) -> bytes: ...


def s3_failure(err: ServiceError) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Error occurred while GetObject. S3 Error Code: {err.code}. "
        f"S3 Error Message: {err.message}"
    )


def names_s3(code: Mapping[str, Any]) -> bool:
    """Whether a Code/Content parameter names an S3 object rather than carrying a ZipFile."""
    return code.get("ZipFile") is None and bool(code.get("S3Bucket") or code.get("S3Key"))


class ZipUploads:
    """Checks and stores zips; the hashing, unzip check and write run on `work`'s threads."""

    def __init__(
        self,
        blobs: Blobs,
        zipped_limit: int,
        work: BlockingWork,
        objects: CodeObjects | None = None,
    ) -> None:
        self._blobs = blobs
        self._zipped_limit = zipped_limit
        self._work = work
        self._objects = objects

    async def from_s3(self, account: str, region: str, code: Mapping[str, Any]) -> bytes:
        """The zip an S3Bucket/S3Key/S3ObjectVersion names, read as the caller's account."""
        bucket, key = code.get("S3Bucket"), code.get("S3Key")
        if self._objects is None:
            raise InvalidParameterValue(S3_UNAVAILABLE)
        if not bucket or not key:
            raise InvalidParameterValue("Please provide a source for function code.")
        try:
            return await self._objects.read_object(
                account, region, str(bucket), str(key), code.get("S3ObjectVersion")
            )
        except ServiceError as err:
            raise s3_failure(err) from err

    def check_request(self, body_size: int, operation: str, zip_file: bytes | None) -> None:
        """AWS looks at the zip's own size first, then at the request's."""
        if zip_file is not None and len(zip_file) > self._zipped_limit:
            raise zip_too_large(self._zipped_limit)
        limit = request_limit(self._zipped_limit, operation)
        if body_size > limit:
            raise too_large(limit, operation)

    async def store(self, data: bytes, operation: str, *, from_s3: bool = False) -> BlobInfo:
        if not from_s3 and len(data) > self._zipped_limit:
            raise zip_too_large(self._zipped_limit)
        return await self._work.run(self._check_and_put, data)

    def _check_and_put(self, data: bytes) -> BlobInfo:
        self._blobs.check_zip(data)
        return self._blobs.put(data)

    async def check(self, data: bytes) -> None:
        """The archive checks alone (a zip at all, its unzipped size), off the loop."""
        await self._work.run(self._blobs.check_zip, data)
