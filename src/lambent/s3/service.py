"""The S3 slice as one object: buckets, objects, their bytes, and the read Lambda needs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lambent.blocking import BlockingWork
from lambent.clock import Clock
from lambent.errors import S3PermanentRedirect
from lambent.s3.buckets import Buckets
from lambent.s3.content import ContentStore
from lambent.s3.multipart import Uploads
from lambent.s3.objects import Objects
from lambent.store.interface import Store

if TYPE_CHECKING:
    from lambent.blobs.postgres import PgBlobs  # psycopg: cluster mode only
    from lambent.s3.notify.service import BucketNotifications


class S3:
    def __init__(
        self,
        store: Store,
        root: Path,
        clock: Clock,
        work: BlockingWork,
        shared: PgBlobs | None = None,
    ) -> None:
        """`shared`: the cluster's blob store for object bytes (None: files under `root`)."""
        self._store = store
        self.buckets = Buckets(store, clock)
        self.content = ContentStore(root, store, work, shared)
        self.objects = Objects(store, self.buckets, self.content, clock)
        # Event notifications (s3/notify), wired by the composition root.
        self.notifications: BucketNotifications | None = None
        self.uploads = Uploads(store, self.buckets, self.objects, self.content, clock)

    async def delete_bucket(self, account: str, name: str) -> None:
        """Delete an empty bucket; its unfinished multipart uploads go with it."""
        async with self._store.transaction():
            await self._store.delete("s3_bucket_notification", account, name)
            await self.buckets.delete(account, name)
            freed = await self.uploads.drop_all(account, name)
        await self.content.collect(freed)

    async def read_object(
        self, account: str, region: str, bucket: str, key: str, version_id: str | None
    ) -> bytes:
        """An object's bytes as a service in `region` reads them (Lambda's code from S3).

        Raises S3's own errors (NoSuchBucket, NoSuchKey, AccessDenied, PermanentRedirect...);
        the caller words them as it reports S3 failures.
        """
        found, version = await self.objects.get(account, bucket, key, version_id)
        if found.region != region:
            raise S3PermanentRedirect(
                f"The bucket is in this region: {found.region}. "
                "Please use this region to retry the request"
            )
        return await self.objects.read(version)
