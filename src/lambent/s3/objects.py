"""Objects and their versions: put, get, delete, copy and the listings, with S3's rules.

Each key is one store document holding its versions newest first. In a bucket that was
never versioned the only version is "null" and a put replaces it; with versioning enabled
every put and every plain delete (a delete marker) adds a version; when suspended, new
versions and delete markers take the "null" id, replacing an earlier "null" version.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from lambent.clock import Clock
from lambent.errors import (
    S3InvalidArgument,
    S3MethodNotAllowed,
    S3NoSuchKey,
    S3NoSuchVersion,
)
from lambent.s3 import names
from lambent.s3.buckets import OBJECT, Bucket, Buckets
from lambent.s3.content import ContentMissing, ContentStore
from lambent.s3.model import NULL_VERSION, Content, ObjectVersion, versions_doc, versions_of
from lambent.s3.versioning import Versioning
from lambent.store.interface import Store

_PAGE = 1000
# Called inside a write's transaction (bucket, event name, version): S3 notifications.
OnWrite = Callable[[Bucket, str, ObjectVersion], Awaitable[None]]


@dataclass(frozen=True)
class Attributes:
    """What a put stores beside the bytes."""

    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Deleted:
    version_id: str | None  # for x-amz-version-id
    delete_marker: bool


def new_version_id() -> str:
    return secrets.token_urlsafe(24)


def _store_key(bucket: str, key: str) -> str:
    return f"{bucket}/{key}"


class Objects:
    def __init__(self, store: Store, buckets: Buckets, content: ContentStore, clock: Clock):
        self._store = store
        self._buckets = buckets
        self._content = content
        self._clock = clock
        self.on_write: OnWrite | None = None

    # -- documents ---------------------------------------------------------------------
    async def _load(self, account: str, bucket: str, key: str) -> list[ObjectVersion]:
        return versions_of(key, await self._store.get(OBJECT, account, _store_key(bucket, key)))

    async def _save(
        self, account: str, bucket: str, key: str, versions: list[ObjectVersion]
    ) -> None:
        if versions:
            doc = versions_doc(versions)
            await self._store.put(OBJECT, account, _store_key(bucket, key), doc, parent=bucket)
        else:
            await self._store.delete(OBJECT, account, _store_key(bucket, key))

    async def _release(self, removed: list[ObjectVersion]) -> list[str]:
        return [
            v.content.sha256
            for v in removed
            if v.content is not None and await self._content.release(v.content.sha256)
        ]

    # -- writes ------------------------------------------------------------------------
    async def put(
        self,
        account: str,
        bucket_name: str,
        key: str,
        content: Content,
        data: bytes | None,
        attrs: Attributes,
        *,
        multipart_etag: str | None = None,
        event: str = "ObjectCreated:Put",
    ) -> tuple[Bucket, ObjectVersion]:
        """Record a new version whose bytes `content` names (`data` rewrites them if gone)."""
        names.check_key(key)
        async with self._store.transaction():
            bucket = await self._buckets.get(account, bucket_name)
            versions = await self._load(account, bucket_name, key)
            enabled = bucket.versioning is Versioning.ENABLED
            version = ObjectVersion(
                key=key,
                version_id=new_version_id() if enabled else NULL_VERSION,
                last_modified=self._clock.time(),
                content=content,
                content_type=attrs.content_type,
                metadata=dict(attrs.metadata),
                headers=dict(attrs.headers),
                checksums=dict(attrs.checksums),
                multipart_etag=multipart_etag,
            )
            try:
                await self._content.acquire(content, data)
            except ContentMissing as exc:
                raise S3NoSuchKey(key) from exc
            removed = [] if enabled else [v for v in versions if v.version_id == NULL_VERSION]
            kept = [v for v in versions if v not in removed]
            unreferenced = await self._release(removed)
            await self._save(account, bucket_name, key, [version, *kept])
            if self.on_write is not None:
                await self.on_write(bucket, event, version)
        await self._content.collect(unreferenced)
        return bucket, version

    async def delete(
        self, account: str, bucket_name: str, key: str, version_id: str | None
    ) -> Deleted:
        async with self._store.transaction():
            bucket = await self._buckets.get(account, bucket_name)
            versions = await self._load(account, bucket_name, key)
            if version_id is None:
                result, removed, versions = self._delete_current(bucket, key, versions)
            else:
                found = [v for v in versions if v.version_id == version_id]
                if not found and not bucket.versioned and version_id != NULL_VERSION:
                    raise S3InvalidArgument("Invalid version id specified")
                removed = found
                versions = [v for v in versions if v.version_id != version_id]
                result = Deleted(version_id, bool(found and found[0].delete_marker))
            unreferenced = await self._release(removed)
            await self._save(account, bucket_name, key, versions)
            if self.on_write is not None:
                await self._notify_delete(bucket, key, result)
        await self._content.collect(unreferenced)
        return result

    async def _notify_delete(self, bucket: Bucket, key: str, result: Deleted) -> None:
        assert self.on_write is not None
        marker = result.delete_marker and result.version_id is not None
        gone = ObjectVersion(
            key=key,
            version_id=result.version_id or NULL_VERSION,
            last_modified=self._clock.time(),
            delete_marker=marker,
        )
        name = "ObjectRemoved:DeleteMarkerCreated" if marker else "ObjectRemoved:Delete"
        await self.on_write(bucket, name, gone)

    def _delete_current(
        self, bucket: Bucket, key: str, versions: list[ObjectVersion]
    ) -> tuple[Deleted, list[ObjectVersion], list[ObjectVersion]]:
        """A delete without a version: removes the object, or hides it behind a marker."""
        if bucket.versioning is Versioning.UNVERSIONED:
            return Deleted(None, False), versions, []
        enabled = bucket.versioning is Versioning.ENABLED
        removed = [] if enabled else [v for v in versions if v.version_id == NULL_VERSION]
        marker = ObjectVersion(
            key=key,
            version_id=new_version_id() if enabled else NULL_VERSION,
            last_modified=self._clock.time(),
            delete_marker=True,
        )
        kept = [v for v in versions if v not in removed]
        return Deleted(marker.version_id, True), removed, [marker, *kept]

    # -- reads -------------------------------------------------------------------------
    async def get(
        self, account: str, bucket_name: str, key: str, version_id: str | None
    ) -> tuple[Bucket, ObjectVersion]:
        bucket = await self._buckets.get(account, bucket_name)
        versions = await self._load(account, bucket_name, key)
        if version_id is None:
            if not versions:
                raise S3NoSuchKey(key)
            current = versions[0]
            if current.delete_marker:
                raise S3NoSuchKey(key, delete_marker=current.version_id)
            return bucket, current
        for version in versions:
            if version.version_id == version_id:
                if version.delete_marker:
                    raise S3MethodNotAllowed(
                        "The specified method is not allowed against this resource.",
                        delete_marker=version_id,
                    )
                return bucket, version
        if not bucket.versioned and version_id != NULL_VERSION:
            raise S3InvalidArgument("Invalid version id specified")
        raise S3NoSuchVersion(key, version_id)

    async def read(
        self, version: ObjectVersion, start: int = 0, length: int | None = None
    ) -> bytes:
        """The bytes of a version (read on the blocking pool: objects go up to gigabytes)."""
        if version.content is None:
            return b""
        return await self._content.work.run(
            self._content.read, version.content.sha256, start, length
        )

    async def entries(
        self,
        account: str,
        bucket_name: str,
        prefix: str,
        marker: str | None,
        *,
        from_marker: bool = False,
    ) -> AsyncIterator[tuple[str, list[ObjectVersion]]]:
        """Every key of a bucket from the first that can match, in S3's order, lazily:
        after `marker`, or from it (`from_marker`: a VersionIdMarker resumes inside the
        versions of the marker's key, so that key comes first)."""
        await self._buckets.get(account, bucket_name)
        base = f"{bucket_name}/"
        if marker is not None and marker >= prefix:
            after = base + marker
            if from_marker and marker.startswith(prefix):
                exact = await self._load(account, bucket_name, marker)
                if exact:
                    yield marker, exact
        else:
            after = base + prefix
            if prefix:
                exact = await self._load(account, bucket_name, prefix)
                if exact:
                    yield prefix, exact
        while True:
            rows = await self._store.list(
                OBJECT, account, parent=bucket_name, after=after, limit=_PAGE
            )
            for row in rows:
                key = row.key[len(base) :]
                if not key.startswith(prefix) and key > prefix:
                    return
                yield key, versions_of(key, row.doc)
            if len(rows) < _PAGE:
                return
            after = rows[-1].key

    async def current(
        self, account: str, bucket_name: str, prefix: str, marker: str | None
    ) -> AsyncIterator[tuple[str, ObjectVersion]]:
        """The visible objects (current version not a delete marker), for ListObjects."""
        async for key, versions in self.entries(account, bucket_name, prefix, marker):
            if versions and not versions[0].delete_marker:
                yield key, versions[0]
