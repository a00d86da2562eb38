"""Bucket notifications' domain API: Put/Get configuration (validated as S3 does) and the
hook Objects calls inside a write's transaction to add outbox rows for each matching
configuration. Delivery is the dispatcher's (delivery.py), after the commit."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from lambent.clock import Clock
from lambent.errors import S3InvalidArgument
from lambent.s3.buckets import Bucket
from lambent.s3.model import ObjectVersion
from lambent.s3.notify import config, records
from lambent.s3.notify.outbox import NotifyOutbox
from lambent.store.interface import Store

# (kind, destination ARN, bucket ARN) -> may S3 deliver there?
Validate = Callable[[str, str, str], Awaitable[bool]]


class BucketNotifications:
    def __init__(self, store: Store, outbox: NotifyOutbox, clock: Clock) -> None:
        self._store = store
        self.outbox = outbox
        self._clock = clock
        self.validate: Validate | None = None  # set by the composition root
        self.wake: Callable[[], None] = lambda: None

    async def get(self, account: str, bucket: str) -> dict[str, Any]:
        doc = await self._store.get(config.CONFIG, account, bucket)
        return dict(doc or {})

    async def put(self, account: str, bucket: str, wanted: dict[str, Any]) -> None:
        normalized = config.normalize(wanted)
        source = f"arn:aws:s3:::{bucket}"
        failed = []
        for target in config.targets(normalized):
            if self.validate is not None and not await self.validate(
                target.kind, target.arn, source
            ):
                failed.append(target.arn)
        if failed:
            raise S3InvalidArgument(
                "Unable to validate the following destination configurations",
                fields={
                    "ArgumentName": failed[0],
                    "ArgumentValue": "Permissions on the destination are not sufficient",
                },
            )
        await self._store.put(config.CONFIG, account, bucket, normalized, parent=bucket)

    async def on_write(self, bucket: Bucket, event_name: str, version: ObjectVersion) -> None:
        """Inside the write's transaction: one outbox row per matching configuration."""
        doc = await self._store.get(config.CONFIG, bucket.account, bucket.name)
        if not doc:
            return
        added = False
        for target in config.targets(doc):
            if not target.wants(event_name, version.key):
                continue
            event = records.record(
                event_name=event_name,
                region=bucket.region,
                bucket=bucket.name,
                owner=bucket.account,
                version=version,
                config_id=target.config_id,
                request_id=uuid.uuid4().hex[:16].upper(),
            )
            where = {"kind": target.kind, "arn": target.arn, "bucket": bucket.name}
            await self.outbox.add(where, {"Records": [event]}, self._clock.time())
            added = True
        if added:
            self.wake()
