"""Multipart uploads: parts stored as content while the upload is open, one object at the end.

This is what `aws s3 cp` and s3transfer use above their 8 MB threshold, so deploying a large
zip needs it. Each part's bytes are referenced like an object version's (see content.py),
so aborting, completing or deleting the bucket frees exactly what no object still uses.
Completing reads the parts back into memory and stores their concatenation once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from lambent.blobs.interface import BlobMissing
from lambent.clock import Clock
from lambent.errors import (
    S3InvalidArgument,
    S3InvalidPart,
    S3MalformedXML,
    S3NoSuchUpload,
)
from lambent.s3 import checksums, names
from lambent.s3.buckets import Bucket, Buckets
from lambent.s3.content import ContentStore
from lambent.s3.model import Content, ObjectVersion
from lambent.s3.objects import Attributes, Objects
from lambent.store.interface import Store

UPLOAD = "s3_upload"  # one document per open upload, parent = the bucket
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10_000
INVALID_PART = (
    "One or more of the specified parts could not be found. The part may not have been "
    "uploaded, or the specified entity tag may not match the part's entity tag."
)


@dataclass(frozen=True)
class Part:
    number: int
    content: Content
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        return self.content.etag

    def to_doc(self) -> list[Any]:
        c = self.content
        return [c.sha256, c.size, c.md5, self.checksums]

    @classmethod
    def from_doc(cls, number: int, doc: list[Any]) -> Part:
        sha, size, md5, sums = doc
        return cls(number, Content(str(sha), int(size), str(md5)), dict(sums))


@dataclass(frozen=True)
class Requested:
    """One entry of CompleteMultipartUpload's part list."""

    number: int
    etag: str
    checksums: dict[str, str] = field(default_factory=dict)


def multipart_etag(parts: list[Part]) -> str:
    digest = hashlib.md5(b"".join(bytes.fromhex(p.content.md5) for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def _chosen(requested: list[Requested], parts: dict[int, Part]) -> list[Part]:
    """The parts a completion names, checked as S3 checks them."""
    if not requested:
        raise S3MalformedXML()
    numbers = [r.number for r in requested]
    if numbers != sorted(set(numbers)):
        raise S3InvalidPart(
            "The list of parts was not in ascending order. The parts list must be specified "
            "in order by part number.",
            code="InvalidPartOrder",
        )
    chosen: list[Part] = []
    for item in requested:
        part = parts.get(item.number)
        if part is None or item.etag.strip('"') != part.content.md5:
            raise S3InvalidPart(INVALID_PART, fields={"PartNumber": item.number})
        for algorithm, value in item.checksums.items():
            if algorithm in part.checksums and part.checksums[algorithm] != value:
                raise S3InvalidPart(INVALID_PART, fields={"PartNumber": item.number})
        chosen.append(part)
    for part in chosen[:-1]:
        if part.content.size < MIN_PART_SIZE:
            raise S3InvalidPart(
                "Your proposed upload is smaller than the minimum allowed size",
                code="EntityTooSmall",
                fields={
                    "ProposedSize": part.content.size,
                    "MinSizeAllowed": MIN_PART_SIZE,
                    "PartNumber": part.number,
                    "ETag": part.etag,
                },
            )
    return chosen


class Uploads:
    def __init__(
        self,
        store: Store,
        buckets: Buckets,
        objects: Objects,
        content: ContentStore,
        clock: Clock,
    ) -> None:
        self._store = store
        self._buckets = buckets
        self._objects = objects
        self._content = content
        self._clock = clock

    async def _load(self, account: str, bucket: str, key: str, upload_id: str) -> dict[str, Any]:
        await self._buckets.get(account, bucket)
        doc = await self._store.get(UPLOAD, account, upload_id)
        if doc is None or doc["bucket"] != bucket or doc["key"] != key:
            raise S3NoSuchUpload(upload_id)
        return doc

    async def check(self, account: str, bucket: str, key: str, upload_id: str) -> None:
        """NoSuchUpload before a part's bytes are written, not after."""
        await self._load(account, bucket, key, upload_id)

    def _parts(self, doc: dict[str, Any]) -> dict[int, Part]:
        return {int(n): Part.from_doc(int(n), p) for n, p in doc["parts"].items()}

    async def create(self, account: str, bucket: str, key: str, attrs: Attributes) -> str:
        names.check_key(key)
        await self._buckets.get(account, bucket)
        upload_id = secrets.token_urlsafe(32)
        doc = {
            "bucket": bucket,
            "key": key,
            "created": self._clock.time(),
            "attrs": [attrs.content_type, attrs.metadata, attrs.headers],
            "parts": {},
        }
        await self._store.put(UPLOAD, account, upload_id, doc, parent=bucket)
        return upload_id

    async def put_part(
        self,
        account: str,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        content: Content,
        data: bytes,
        sums: dict[str, str],
    ) -> Part:
        if not 1 <= number <= MAX_PART_NUMBER:
            raise S3InvalidArgument(
                "Part number must be an integer between 1 and 10000, inclusive",
                fields={"ArgumentName": "partNumber", "ArgumentValue": number},
            )
        part = Part(number, content, sums)
        async with self._store.transaction():
            doc = await self._load(account, bucket, key, upload_id)
            await self._content.acquire(content, data)
            old = self._parts(doc).get(number)
            freed = (
                [old.content.sha256]
                if old and await self._content.release(old.content.sha256)
                else []
            )
            doc["parts"][str(number)] = part.to_doc()
            await self._store.put(UPLOAD, account, upload_id, doc, parent=bucket)
        await self._content.collect(freed)
        return part

    async def complete(
        self,
        account: str,
        bucket: str,
        key: str,
        upload_id: str,
        requested: list[Requested],
        whole_object: dict[str, object],
    ) -> tuple[Bucket, ObjectVersion]:
        """Join the named parts into one object version (the bytes are joined, checked and
        written on the blocking pool)."""
        doc = await self._load(account, bucket, key, upload_id)
        chosen = _chosen(requested, self._parts(doc))
        content_type, metadata, headers = doc["attrs"]
        try:
            data, sums, content = await self._content.work.run(self._join, chosen, whole_object)
        except BlobMissing as exc:  # aborted meanwhile
            raise S3NoSuchUpload(upload_id) from exc
        attrs = Attributes(content_type, metadata, headers, sums)
        async with self._store.transaction():
            await self._load(account, bucket, key, upload_id)  # still open: not completed twice
            result = await self._objects.put(
                account,
                bucket,
                key,
                content,
                data,
                attrs,
                multipart_etag=multipart_etag(chosen),
                event="ObjectCreated:CompleteMultipartUpload",
            )
            freed = await self._drop(
                account, upload_id, await self._store.get(UPLOAD, account, upload_id)
            )
        await self._content.collect(freed)
        return result

    def _join(
        self, chosen: list[Part], whole_object: dict[str, object]
    ) -> tuple[bytes, dict[str, str], Content]:
        data = b"".join(self._content.read(p.content.sha256) for p in chosen)
        sums = checksums.verify(whole_object, data)
        return data, sums, self._content.write(data)

    async def abort(self, account: str, bucket: str, key: str, upload_id: str) -> None:
        async with self._store.transaction():
            doc = await self._load(account, bucket, key, upload_id)
            freed = await self._drop(account, upload_id, doc)
        await self._content.collect(freed)

    async def drop_all(self, account: str, bucket: str) -> list[str]:
        """Forget every open upload of a bucket (inside the caller's transaction)."""
        freed: list[str] = []
        for row in await self._store.list(UPLOAD, account, parent=bucket):
            freed += await self._drop(account, row.key, row.doc)
        return freed

    async def _drop(self, account: str, upload_id: str, doc: dict[str, Any] | None) -> list[str]:
        if doc is None:
            return []
        freed = [
            p.content.sha256
            for p in self._parts(doc).values()
            if await self._content.release(p.content.sha256)
        ]
        await self._store.delete(UPLOAD, account, upload_id)
        return freed
