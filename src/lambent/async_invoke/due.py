"""What the scheduler knows is due, so that a steady drain costs one queue round trip per
start (the claim), not three.

The queue is asked which functions have events due (`due_functions`) and when the next
one falls due (`next_due`) only when that may have changed in a way the scheduler did not
see itself: an event was accepted, a retry was scheduled, an event was handed back, the
time it slept for came, or a claim found fewer events than the count said. Between those,
its own claims are subtracted from the counts it holds. On a queue one server owns nothing
else takes them; on a shared queue (PostgreSQL) another node's claims show up as a claim
that found fewer events than counted, which makes the view ask again, and another node's
acceptances and retries invalidate it through the queue's wake-up (`on_remote`). A count
that reached the cap it was asked with was "at least": once used up it is asked again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lambent.async_invoke.queue import DueFunction, EventQueue


@dataclass
class _Known:
    due: DueFunction
    exact: bool  # False: the count hit the cap, there may be more


class DueView:
    def __init__(self, queue: EventQueue) -> None:
        self._queue = queue
        self._known: dict[str, _Known] | None = None
        self._next_at: float | None = None
        self._next_stale = True
        # Bumped by every invalidation: counts asked for before one are not kept after it.
        self._generation = 0

    def invalidate(self) -> None:
        """Something may be due that the counts do not show (accepted, handed back, ...)."""
        self._known = None
        self._next_stale = True
        self._generation += 1

    def retry_scheduled(self) -> None:
        """A retry went back to the queue: the next due time may be earlier."""
        self._next_stale = True

    async def due(self, now: float, cap: int) -> list[DueFunction]:
        if self._next_at is not None and self._next_at <= now:
            self.invalidate()  # the time slept for has come
        if self._known is None:
            generation = self._generation
            found = await self._queue.due_functions(now, cap)
            known = {d.function_arn: _Known(d, d.count < cap) for d in found}
            # Invalidated while the queue answered (an acceptance committed meanwhile, on
            # another connection, another node): the answer may predate it. This pass uses
            # it; the next asks again.
            if generation == self._generation:
                self._known = known
            return [k.due for k in known.values()]
        return [k.due for k in self._known.values()]

    def claimed(self, function_arn: str, asked: int, got: int) -> None:
        if self._known is None:
            return
        known = self._known.get(function_arn)
        if known is None:
            return
        left = known.due.count - got
        if got < asked or (left <= 0 and not known.exact):
            self._known = None  # the count was wrong, or there may be more: ask again
        elif left <= 0:
            del self._known[function_arn]
        else:
            known.due = replace(known.due, count=left)

    async def sleep_for(self, now: float, clock_now: float) -> float | None:
        """How long until the next event falls due (None: nothing is scheduled)."""
        if self._next_at is not None and self._next_at <= now:
            self.invalidate()  # the time slept for has come
        if self._next_stale:
            self._next_stale = False  # before the await: a mark made meanwhile stays
            self._next_at = await self._queue.next_due(now)
        if self._next_at is None:
            return None
        return max(0.0, self._next_at - clock_now)
