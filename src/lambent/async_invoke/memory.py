"""The in-memory event queue: the same contract as SQLite, and nothing survives a restart.

For tests of the layers above and for throwaway servers. Single event loop, no locks:
every method runs to completion without awaiting anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lambent.async_invoke.event import EventState, QueuedEvent
from lambent.async_invoke.queue import DueFunction, QueueStats


@dataclass(slots=True)
class _Entry:
    seq: int
    event: QueuedEvent
    claimed_until: float | None = None


class MemoryQueue:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._seq = 0
        self._operations = 0

    async def enqueue(self, event: QueuedEvent) -> None:
        self._operations += 1
        if event.event_id in self._entries:
            return
        self._seq += 1
        self._entries[event.event_id] = _Entry(self._seq, event)

    def _claimable(self, entry: _Entry, now: float) -> bool:
        if entry.claimed_until is None:
            return entry.event.available_at <= now
        return entry.claimed_until <= now

    @staticmethod
    def _order(entry: _Entry) -> tuple[int, float, int]:
        """Lapsed leases first (oldest lease first), then oldest due, then accepted first."""
        if entry.claimed_until is not None:
            return (0, entry.claimed_until, entry.seq)
        return (1, entry.event.available_at, entry.seq)

    @staticmethod
    def _since(entry: _Entry) -> float:
        if entry.claimed_until is not None:
            return entry.claimed_until
        return entry.event.available_at

    async def due_functions(self, now: float, cap: int) -> list[DueFunction]:
        self._operations += 1
        counts: dict[str, int] = {}
        first: dict[str, float] = {}
        for entry in self._entries.values():
            if not self._claimable(entry, now):
                continue
            fn = entry.event.destination.function_arn
            counts[fn] = counts.get(fn, 0) + 1
            first[fn] = min(first.get(fn, self._since(entry)), self._since(entry))
        due = [DueFunction(fn, min(n, cap), first[fn]) for fn, n in counts.items()]
        return sorted(due, key=lambda d: (d.due_at, d.function_arn))

    async def claim(
        self, function_arn: str, now: float, limit: int, lease_s: float
    ) -> list[QueuedEvent]:
        if limit <= 0:
            return []
        self._operations += 1
        ready = sorted(
            (
                e
                for e in self._entries.values()
                if e.event.destination.function_arn == function_arn and self._claimable(e, now)
            ),
            key=self._order,
        )[:limit]
        for entry in ready:
            entry.claimed_until = now + lease_s
        return [entry.event for entry in ready]

    async def complete(self, event_id: str) -> None:
        self._operations += 1
        self._entries.pop(event_id, None)

    async def reschedule(self, event_id: str, state: EventState, available_at: float) -> None:
        self._operations += 1
        entry = self._entries.get(event_id)
        if entry is not None:
            entry.event = entry.event.with_state(state, available_at)
            entry.claimed_until = None

    async def release(self, event_ids: Sequence[str]) -> None:
        self._operations += 1
        for event_id in event_ids:
            entry = self._entries.get(event_id)
            if entry is not None:
                entry.claimed_until = None

    async def recover(self) -> int:
        claimed = [e for e in self._entries.values() if e.claimed_until is not None]
        for entry in claimed:
            entry.claimed_until = None
        return len(claimed)

    async def next_due(self, after: float) -> float | None:
        times = [self._since(e) for e in self._entries.values() if self._since(e) > after]
        return min(times, default=None)

    async def claimed_elsewhere(
        self, account_id: str, function_arn: str | None, now: float
    ) -> bool:
        return False  # one server owns this queue

    def on_remote(self, wake: Callable[[], None]) -> None:
        """One server owns this queue: no other node ever makes events due."""

    async def stats(self) -> QueueStats:
        claimed = sum(1 for e in self._entries.values() if e.claimed_until is not None)
        return QueueStats(
            queued=len(self._entries) - claimed,
            claimed=claimed,
            commits=0,  # nothing here is durable
            operations=self._operations,
        )

    async def close(self) -> None:
        pass
