"""The in-memory queue between `emit` (the invoke path) and a backend's batch writer.

`emit` runs on the event loop for every invocation's log lines, so it only appends under a
short lock; a backend drains the whole queue into one batch write off the loop's critical
path. The queue is bounded: if storage cannot keep up (or is down), the oldest queued
events are dropped and counted rather than letting memory grow without limit. A batch
that failed to write is put back in front, under the same bound, and tried again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from lambent.logs.sink import LogEvent

log = logging.getLogger(__name__)

# CloudWatch Logs' event size limit is 256 KiB including 26 bytes of overhead.
MAX_MESSAGE_BYTES = 262_144 - 26
MAX_QUEUED_EVENTS = 500_000
# Flush early once this many events wait, without waiting for the interval.
EARLY_FLUSH_EVENTS = 20_000

StreamKey = tuple[str, str, str]  # (account, group, stream)
Batch = dict[StreamKey, list[LogEvent]]
EventRow = tuple[int, str]  # (timestamp_ms, message)


def clip(message: str) -> str:
    """A message as every backend stores it: cut to the event size limit on a UTF-8
    character boundary, NUL replaced (PostgreSQL's text cannot hold it, and both backends
    must give back the same message)."""
    if "\x00" in message:
        message = message.replace("\x00", "\ufffd")
    data = message.encode()
    if len(data) <= MAX_MESSAGE_BYTES:
        return message
    return data[:MAX_MESSAGE_BYTES].decode("utf-8", "ignore")


def rows_of(events: list[LogEvent]) -> list[EventRow]:
    return [(e.timestamp_ms, clip(e.message)) for e in events]


class LogBuffer:
    def __init__(
        self, max_queued: int = MAX_QUEUED_EVENTS, on_early: Callable[[], None] | None = None
    ) -> None:
        self._max = max_queued
        self._on_early = on_early
        self._lock = threading.Lock()
        self._queue: Batch = {}
        self._queued = 0
        self.dropped = 0

    @property
    def queued(self) -> int:
        return self._queued

    def add(self, key: StreamKey, events: list[LogEvent]) -> None:
        with self._lock:
            before = self._queued
            self._queue.setdefault(key, []).extend(events)
            self._queued += len(events)
            if self._queued > self._max:
                self._drop_oldest_locked(self._queued - self._max)
            # Once, on crossing: a wake-up per emit past the mark would cost every invoke.
            early = before < EARLY_FLUSH_EVENTS <= self._queued
        if early and self._on_early is not None:
            self._on_early()

    def drain(self) -> Batch:
        with self._lock:
            batch, self._queue, self._queued = self._queue, {}, 0
        return batch

    def requeue(self, batch: Batch) -> None:
        """Put a batch that could not be written back before what came since."""
        with self._lock:
            merged: Batch = {key: list(events) for key, events in batch.items()}
            for key, events in self._queue.items():
                merged.setdefault(key, []).extend(events)
            self._queue = merged
            self._queued = sum(len(v) for v in merged.values())
            if self._queued > self._max:
                self._drop_oldest_locked(self._queued - self._max)

    def _drop_oldest_locked(self, count: int) -> None:
        for key in list(self._queue):
            if count <= 0:
                break
            pending = self._queue[key]
            cut = min(count, len(pending))
            del pending[:cut]
            if not pending:
                del self._queue[key]
            count -= cut
            self._queued -= cut
            self.dropped += cut
        log.warning("log queue full: dropped events (%d dropped so far)", self.dropped)
