"""Object operations: put, get, head, delete (one or many), copy.

Bodies are hashed and written on a worker thread, so a large upload does not stall the
loop; metadata changes are store transactions (see lambent.s3.objects).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
from typing import Any
from urllib.parse import parse_qs, unquote

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.s3.common import Result
from lambent.errors import (
    S3ContentSha256Mismatch,
    S3InvalidArgument,
    S3InvalidRequest,
    ServiceError,
)
from lambent.s3 import checksums, conditions, names
from lambent.s3.buckets import Bucket
from lambent.s3.content import ContentStore
from lambent.s3.model import DEFAULT_CONTENT_TYPE, STORED_HEADERS, Content, ObjectVersion
from lambent.s3.objects import Attributes
from lambent.s3.service import S3

_HEX = frozenset("0123456789abcdef")
# Query parameters of GetObject that override a response header (response-content-type, ...).
_OVERRIDES = {
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseContentType": "ContentType",
    "ResponseExpires": "Expires",
}
_MEMBER_OF = {algorithm: member for member, algorithm in checksums.MEMBERS.items()}


def attributes(params: Result, sums: dict[str, str]) -> Attributes:
    headers: dict[str, str] = {}
    for name in STORED_HEADERS:
        value = params.get(name)
        if isinstance(value, dt.datetime):
            value = email.utils.format_datetime(value.astimezone(dt.UTC), usegmt=True)
        if value is not None:
            headers[name] = str(value)
    return Attributes(
        content_type=params.get("ContentType") or DEFAULT_CONTENT_TYPE,
        metadata=dict(params.get("Metadata") or {}),
        headers=headers,
        checksums=sums,
    )


def checksum_members(sums: dict[str, str]) -> Result:
    out: Result = {_MEMBER_OF[alg]: value for alg, value in sums.items() if alg in _MEMBER_OF}
    if out:
        out["ChecksumType"] = "FULL_OBJECT"
    return out


def _stored_header(name: str, value: str) -> Any:
    if name != "Expires":
        return value
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def described(bucket: Bucket, version: ObjectVersion, params: Result, length: int) -> Result:
    """The headers GetObject and HeadObject answer with."""
    out: Result = {
        "ETag": version.etag,
        "LastModified": version.last_modified,
        "ContentType": version.content_type,
        "ContentLength": length,
        "AcceptRanges": "bytes",
    }
    if version.metadata:
        out["Metadata"] = dict(version.metadata)
    for name, value in version.headers.items():
        out[name] = _stored_header(name, value)
    if bucket.versioned:
        out["VersionId"] = version.version_id
    for query_member, member in _OVERRIDES.items():
        if params.get(query_member) is not None:
            out[member] = params[query_member]
    return out


def parse_copy_source(source: str) -> tuple[str, str, str | None]:
    path, _, query = source.partition("?")
    versions = parse_qs(query).get("versionId") if query else None
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    if not bucket or not key:
        raise S3InvalidArgument("Invalid copy source object key")
    return bucket, key, versions[0] if versions else None


def prepare(
    content: ContentStore, params: Result, data: bytes, declared: str | None
) -> tuple[Content, dict[str, str]]:
    """A body's integrity checks, then its bytes stored (blocking: run on a worker thread)."""
    sha256 = hashlib.sha256(data).hexdigest()
    if declared and len(declared) == 64 and set(declared) <= _HEX and declared != sha256:
        raise S3ContentSha256Mismatch(
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            fields={"ClientComputedContentSHA256": declared, "S3ComputedContentSHA256": sha256},
        )
    sums = checksums.verify(params, data)
    wanted = str(params.get("ChecksumAlgorithm") or "").upper()
    if wanted in _MEMBER_OF and wanted not in sums:
        sums[wanted] = checksums.encoded(wanted, data)  # asked for, not sent: S3 computes it
    return content.write(data, sha256=sha256), sums


class ObjectHandlers(ServiceHandlers):
    service = "s3"

    def __init__(self, s3: S3) -> None:
        self._s3 = s3

    async def put_object(self, ctx: RequestContext, params: Result) -> Result:
        account, bucket_name, key = ctx.account_id, params["Bucket"], params["Key"]
        await self._s3.buckets.get(account, bucket_name)  # before any bytes are written
        names.check_key(key)
        data = bytes(params.get("Body") or b"")
        declared = ctx.request.headers.get("x-amz-content-sha256")
        content, sums = await self._s3.content.work.run(
            prepare, self._s3.content, params, data, declared
        )
        bucket, version = await self._s3.objects.put(
            account, bucket_name, key, content, data, attributes(params, sums)
        )
        out: Result = {"ETag": version.etag, **checksum_members(sums)}
        if bucket.versioned:
            out["VersionId"] = version.version_id
        return out

    async def _found(self, ctx: RequestContext, params: Result) -> tuple[Bucket, ObjectVersion]:
        bucket, version = await self._s3.objects.get(
            ctx.account_id, params["Bucket"], params["Key"], params.get("VersionId")
        )
        conditions.check(
            version,
            if_match=params.get("IfMatch"),
            if_none_match=params.get("IfNoneMatch"),
            if_modified_since=params.get("IfModifiedSince"),
            if_unmodified_since=params.get("IfUnmodifiedSince"),
        )
        return bucket, version

    def _answer(
        self, bucket: Bucket, version: ObjectVersion, params: Result
    ) -> tuple[Result, tuple[int, int] | None]:
        span = conditions.byte_range(params.get("Range"), version.size)
        length = version.size if span is None else span[1] - span[0] + 1
        out = described(bucket, version, params, length)
        if span is not None:
            out["ContentRange"] = f"bytes {span[0]}-{span[1]}/{version.size}"
        elif params.get("ChecksumMode") == "ENABLED":
            out.update(checksum_members(version.checksums))
        return out, span

    async def get_object(self, ctx: RequestContext, params: Result) -> Result:
        bucket, version = await self._found(ctx, params)
        out, span = self._answer(bucket, version, params)
        start, length = (0, None) if span is None else (span[0], span[1] - span[0] + 1)
        out["Body"] = await self._s3.objects.read(version, start, length)
        return out

    async def head_object(self, ctx: RequestContext, params: Result) -> Result:
        bucket, version = await self._found(ctx, params)
        return self._answer(bucket, version, params)[0]

    async def delete_object(self, ctx: RequestContext, params: Result) -> Result:
        result = await self._s3.objects.delete(
            ctx.account_id, params["Bucket"], params["Key"], params.get("VersionId")
        )
        out: Result = {}
        if result.delete_marker:
            out["DeleteMarker"] = True
        if result.version_id is not None:
            out["VersionId"] = result.version_id
        return out

    async def delete_objects(self, ctx: RequestContext, params: Result) -> Result:
        request = params.get("Delete") or {}
        quiet = bool(request.get("Quiet"))
        deleted: list[Result] = []
        errors: list[Result] = []
        await self._s3.buckets.get(ctx.account_id, params["Bucket"])
        for item in request.get("Objects") or []:
            key, version_id = str(item.get("Key", "")), item.get("VersionId")
            try:
                result = await self._s3.objects.delete(
                    ctx.account_id, params["Bucket"], key, version_id
                )
            except ServiceError as err:
                errors.append(
                    {"Key": key, "VersionId": version_id, "Code": err.code, "Message": err.message}
                )
                continue
            if quiet:
                continue
            entry: Result = {"Key": key}
            if version_id is not None:
                entry["VersionId"] = version_id
            if result.delete_marker:
                entry["DeleteMarker"] = True
                entry["DeleteMarkerVersionId"] = result.version_id
            deleted.append(entry)
        return {"Deleted": deleted or None, "Errors": errors or None}

    async def copy_object(self, ctx: RequestContext, params: Result) -> Result:
        src_bucket, src_key, src_version = parse_copy_source(str(params["CopySource"]))
        source_bucket, source = await self._s3.objects.get(
            ctx.account_id, src_bucket, src_key, src_version
        )
        replace = params.get("MetadataDirective") == "REPLACE"
        same = (src_bucket, src_key) == (params["Bucket"], params["Key"])
        if same and not replace and src_version is None:
            raise S3InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes."
            )
        if replace:
            attrs = attributes(params, dict(source.checksums))
        else:
            attrs = Attributes(
                source.content_type,
                dict(source.metadata),
                dict(source.headers),
                dict(source.checksums),
            )
        assert source.content is not None  # only delete markers have none, and get refuses them
        bucket, version = await self._s3.objects.put(
            ctx.account_id,
            params["Bucket"],
            params["Key"],
            source.content,
            None,
            attrs,
            event="ObjectCreated:Copy",
        )
        result: Result = {
            "ETag": version.etag,
            "LastModified": version.last_modified,
            **checksum_members(version.checksums),
        }
        out: Result = {"CopyObjectResult": result}
        if bucket.versioned:
            out["VersionId"] = version.version_id
        if source_bucket.versioned:
            out["CopySourceVersionId"] = source.version_id
        return out
