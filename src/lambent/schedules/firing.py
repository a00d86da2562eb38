"""The firer: fires due schedules once per due time, on the injected clock.

Each round claims due rows (a lease: in a cluster one node takes each), delivers each to
its target, and settles it: the next due time, a retry, or nothing more (an `at()` that
fired, or EndDate passed; with ActionAfterCompletion DELETE the schedule is deleted).
A failed delivery is retried with exponential backoff (1 s doubling, at most 5 min) while
RetryPolicy allows (MaximumRetryAttempts, default 185; MaximumEventAgeInSeconds, default
86400, AWS's defaults), then goes to DeadLetterConfig's queue if there is one.

Between rounds the firer sleeps until the next fire_at, at most `poll_s` (other nodes'
schedules and lapsed leases are seen by polling), and wakes at once on a local change.
Times missed while no node ran: the first missed due time is fired once if still within
MaximumEventAgeInSeconds, the rest are skipped (timing.following).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from lambent.clock import Clock
from lambent.schedules.backend import Due, ScheduleBackend, Timing
from lambent.schedules.targets import (
    TargetFailed,
    Targets,
    body_of,
    dead_letter_attributes,
)
from lambent.schedules.timing import following

log = logging.getLogger(__name__)

BATCH = 200
LEASE_S = 120.0
MAX_BACKOFF_S = 300.0


class Firer:
    def __init__(
        self, backend: ScheduleBackend, targets: Targets, clock: Clock, poll_s: float = 1.0
    ) -> None:
        self._backend = backend
        self._targets = targets
        self._clock = clock
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.fired = 0
        self.lateness: list[float] = []  # seconds after due, kept for the bench

    def notify(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scheduler-firer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                busy = await self.round()
            except Exception:  # a database hiccup must not end firing for good
                log.exception("scheduler round failed")
                busy = False
            if not busy:
                await self._idle()

    async def _idle(self) -> None:
        try:
            nxt = await self._backend.next_fire_at()
        except Exception:  # the database unreachable: look again after the poll interval
            log.exception("scheduler could not read the next due time")
            nxt = None
        now = self._clock.time()
        delay = self._poll_s if nxt is None else min(max(nxt - now, 0.0), self._poll_s)
        if delay <= 0:
            delay = 0.05  # due but leased elsewhere: look again soon, without spinning
        self._wake.clear()
        sleep = asyncio.ensure_future(self._clock.sleep(delay))
        wake = asyncio.ensure_future(self._wake.wait())
        await asyncio.wait({sleep, wake}, return_when=asyncio.FIRST_COMPLETED)
        for t in (sleep, wake):
            t.cancel()

    async def round(self) -> bool:
        """Fire what is due now; True if there may be more due at once."""
        claimed = await self._backend.claim_due(self._clock.time(), BATCH, LEASE_S)
        if claimed:
            outcomes = await asyncio.gather(*(self._fire(d) for d in claimed))
            await self._backend.settle_many(list(outcomes))
        return len(claimed) == BATCH

    async def _fire(self, due: Due) -> tuple[Due, Timing, bool]:
        """Deliver one due time; what to settle it to (timing, delete)."""
        doc, now = due.doc, self._clock.time()
        target = doc["Target"]
        policy = target.get("RetryPolicy") or {}
        max_age = float(policy.get("MaximumEventAgeInSeconds", 86400))
        max_retries = int(policy.get("MaximumRetryAttempts", 185))
        if now - due.due > max_age:  # missed, or retried, past its age: not delivered
            if due.attempts:
                aged = TargetFailed("MaximumEventAgeExceeded", "retried past its age")
                await self._dead_letter(due, aged, "MaximumEventAgeInSeconds")
            return self._next(due, now)
        try:
            await self._targets.deliver(target, body_of(target))
        except TargetFailed as failure:
            if due.attempts < max_retries:
                backoff = min(2.0**due.attempts, MAX_BACKOFF_S)
                return due, Timing(now + backoff, due.due, due.attempts + 1), False
            await self._dead_letter(due, failure, "MaximumRetryAttempts")
        else:
            self.fired += 1
            self.lateness.append(self._clock.time() - due.due)
        return self._next(due, now)

    def _next(self, due: Due, now: float) -> tuple[Due, Timing, bool]:
        timing = following(due.doc, due.due, now)
        done = timing.fire_at is None
        return due, timing, done and due.doc.get("ActionAfterCompletion") == "DELETE"

    async def _dead_letter(self, due: Due, failure: TargetFailed, condition: str) -> None:
        target = due.doc["Target"]
        arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        log.warning("schedule %s/%s: delivery failed: %s", due.group, due.name, failure)
        if not arn:
            return
        parts = str(arn).split(":")
        attrs = dead_letter_attributes(target, failure, due.attempts, condition)
        try:
            await self._targets.to_queue(parts[4], parts[5], body_of(target), None, attrs)
        except TargetFailed as err:
            log.warning("schedule %s: dead-letter queue %s failed: %s", due.name, arn, err)
