"""A fake event source and invoker for the poller framework's unit tests, on ManualClock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from lambent.clock import ManualClock
from lambent.event_sources.pollers.invoking import Retry, Target
from lambent.event_sources.pollers.source import (
    Backlog,
    Failure,
    Record,
    Settlement,
    Success,
)


async def spin(times: int = 50) -> None:
    for _ in range(times):
        await asyncio.sleep(0)


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


@dataclass
class FakeSource:
    clock: ManualClock
    batch_size: int = 10
    window_s: float = 0.0
    max_concurrency: int = 5
    filter_key: tuple[str, bool] = ("body", False)
    visible: list[Record] = field(default_factory=list)
    in_flight: dict[str, Record] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    receives: int = 0
    closed: bool = False
    _waiters: list[asyncio.Future[None]] = field(default_factory=list)

    def put(self, *bodies: str, size: int | None = None) -> None:
        for body in bodies:
            n = len(self.visible) + len(self.deleted) + len(self.in_flight)
            rid = f"m{n}-{body}"
            self.visible.append(
                Record(rid, {"messageId": rid, "body": body}, size or len(body) + 50)
            )
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)

    async def receive(self, max_records: int, wait_s: float) -> list[Record]:
        self.receives += 1
        if not self.visible and wait_s > 0:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            timer = self.clock.call_later(wait_s, _wake, fut)
            try:
                await fut
            finally:
                timer.cancel()
                self._waiters.remove(fut)
        out, self.visible = self.visible[:max_records], self.visible[max_records:]
        for r in out:
            self.in_flight[r.record_id] = r
        return out

    def event(self, records: Sequence[Record]) -> bytes:
        return json.dumps({"Records": [r.item for r in records]}).encode()

    async def settle(self, records: Sequence[Record], outcome: Settlement) -> None:
        for r in records:
            self.in_flight.pop(r.record_id, None)
            failed = isinstance(outcome, Failure) and (
                outcome.failed is None or r.record_id in outcome.failed
            )
            (self.returned if failed else self.deleted).append(r.record_id)

    async def discard(self, records: Sequence[Record]) -> None:
        for r in records:
            self.in_flight.pop(r.record_id, None)
            self.discarded.append(r.record_id)

    async def backlog(self) -> Backlog:
        return Backlog(len(self.visible), 0.0)

    async def close(self) -> None:
        self.closed = True


@dataclass
class FakeInvoker:
    """Records each batch; holds every invoke until the test releases it (`gate`)."""

    answers: list[Settlement | Retry] = field(default_factory=list)
    batches: list[list[str]] = field(default_factory=list)
    running: int = 0
    peak: int = 0
    gate: asyncio.Event | None = None

    async def __call__(self, target: Target, payload: bytes, ids: list[str]) -> Settlement | Retry:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            self.batches.append(ids)
            if self.gate is not None:
                await self.gate.wait()
            return self.answers.pop(0) if self.answers else Success()
        finally:
            self.running -= 1
