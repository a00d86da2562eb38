"""The poller: claims due events and runs up to `slots` deliveries at once.

It sleeps until the earliest of: a new event (`notify()`), a delivery finishing (a slot
freed, or a retry scheduled), or the next event falling due, on the injected clock, so
tests drive it with ManualClock. A failing queue or delivery is logged and never stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from lambent.async_invoke.delivery import Delivery
from lambent.async_invoke.event import QueuedEvent
from lambent.async_invoke.queue import EventQueue
from lambent.clock import Clock

log = logging.getLogger(__name__)
QUEUE_ERROR_PAUSE_S = 1.0


class Poller:
    def __init__(
        self,
        queue: EventQueue,
        delivery: Delivery,
        clock: Clock,
        *,
        slots: int,
        lease_s: float,
    ) -> None:
        self._queue = queue
        self._delivery = delivery
        self._clock = clock
        self._slots = max(1, slots)
        self._lease_s = lease_s
        self._wake = asyncio.Event()
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._main: asyncio.Task[None] | None = None
        self.delivered = 0  # attempts settled so far (for tests and stats)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def notify(self) -> None:
        """Something may be due now (an event was accepted)."""
        self._wake.set()

    def start(self) -> None:
        if self._main is None:
            self._main = asyncio.create_task(self._run(), name="async-poller")

    async def stop(self, grace_s: float) -> None:
        """Stop claiming; give running deliveries `grace_s`, then cancel them and hand
        their events back to the queue for the next start."""
        if self._main is not None:
            self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._main
            self._main = None
        if self._in_flight:
            await asyncio.wait(list(self._in_flight.values()), timeout=grace_s)
        unsettled = {eid: t for eid, t in self._in_flight.items() if not t.done()}
        for task in unsettled.values():
            task.cancel()
        await asyncio.gather(*unsettled.values(), return_exceptions=True)
        if unsettled:
            try:
                await self._queue.release(list(unsettled))
            except Exception:
                log.exception("could not release %d claimed events", len(unsettled))

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                timeout = await self._claim_and_spawn()
            except Exception:
                log.exception("async event queue failed; retrying")
                timeout = QUEUE_ERROR_PAUSE_S
            if timeout is None or timeout > 0:
                await self._sleep(timeout)

    async def _claim_and_spawn(self) -> float | None:
        """Spawn what is due; return how long to sleep (None: until woken, 0: not at all)."""
        free = self._slots - len(self._in_flight)
        if free <= 0:
            return None
        events = await self._queue.claim(self._clock.time(), free, self._lease_s)
        for event in events:
            self._spawn(event)
        if len(events) == free:
            return 0.0 if len(self._in_flight) < self._slots else None
        due = await self._queue.next_due()
        if due is None:
            return None
        return max(0.0, due - self._clock.time())

    async def _sleep(self, timeout: float | None) -> None:
        waiters: set[asyncio.Task[object]] = {asyncio.create_task(self._wake.wait())}
        if timeout is not None:
            waiters.add(asyncio.create_task(self._clock.sleep(timeout)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    def _spawn(self, event: QueuedEvent) -> None:
        task = asyncio.create_task(self._deliver(event), name=f"async-event-{event.event_id}")
        self._in_flight[event.event_id] = task

        def done(_: asyncio.Task[None]) -> None:
            self._in_flight.pop(event.event_id, None)
            self._wake.set()

        task.add_done_callback(done)

    async def _deliver(self, event: QueuedEvent) -> None:
        try:
            await self._delivery.deliver(event)
            self.delivered += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("async event %s: settling failed; handing it back", event.event_id)
            with contextlib.suppress(Exception):
                await self._queue.release([event.event_id])
