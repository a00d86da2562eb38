"""The dispatcher: claims outbox rows and hands each notification to its destination —
a function through the async path (Lambda invokes S3-notified functions asynchronously),
a queue (its policy must allow s3.amazonaws.com for the bucket), a topic (Publish with
Subject "Amazon S3 Notification"). A row is deleted once handed over; a destination that
is gone drops it (counted); an unexpected error leaves it for retry after its lease."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from lambent.clock import Clock
from lambent.errors import ServiceError
from lambent.s3.notify.outbox import NotifyOutbox
from lambent.store.interface import Doc

log = logging.getLogger(__name__)
LEASE_S = 30.0
IDLE_S = 1.0  # look for other nodes' rows and lapsed leases this often
BATCH = 64

# (kind, arn, bucket, event JSON) -> None when handed over, else why not.
Send = Callable[[str, str, str, str], Awaitable[str | None]]


class NotifyDispatcher:
    def __init__(self, outbox: NotifyOutbox, send: Send, clock: Clock) -> None:
        self._outbox = outbox
        self._send = send
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.stats: dict[str, int] = {"delivered": 0, "failed": 0, "retried": 0}

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="s3-notifications")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                rows = await self._outbox.claim(self._clock.time(), LEASE_S, BATCH)
            except Exception:
                log.exception("s3 notifications: claim failed")
                rows = []
            if rows:
                await asyncio.gather(*(self._deliver(r.key, r.doc) for r in rows))
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_S)

    async def _deliver(self, key: str, doc: Doc) -> None:
        target: dict[str, Any] = doc["target"]
        try:
            why = await self._send(
                target["kind"], target["arn"], target["bucket"], json.dumps(doc["event"])
            )
        except ServiceError as err:
            why = err.message
        except Exception:
            log.exception("s3 notifications: delivery to %s failed", target["arn"])
            self.stats["retried"] += 1
            return  # the lease lapses and the row is tried again
        if why is None:
            self.stats["delivered"] += 1
        else:
            self.stats["failed"] += 1
            log.warning("s3 notification to %s not delivered: %s", target["arn"], why)
        await self._outbox.done(key)
