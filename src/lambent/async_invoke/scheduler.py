"""The async scheduler: runs due events per function, only as far as each function's free
concurrency allows, and serves the functions in turn.

One pass:
1. which functions have events due now, and how many (`due_functions`, asked again only
   when something the scheduler did not do itself may have changed it: due.py);
2. hand out admission leases in rounds, one per function per round, least recently
   served function first, until each function has a lease per due event, its
   concurrency is used up, or `max_deliveries` is reached (so functions that share the
   unreserved pool share it evenly, and a backlog on one never holds back another);
3. claim exactly that many events of each function and start their deliveries, each
   under a lease already held: an async delivery is never throttled by admission;
4. a function that got no lease: if this scheduler's own deliveries hold some of the
   concurrency that stopped it, it waits (a lease given back wakes the scheduler, by an
   event, not by polling); if only other traffic holds it (sync invokes, other sources),
   its due events are attempted and throttled, with AWS's backoff and event age.

The scheduler sleeps until the earliest of: a new event (`notify()`), a lease given back
(its own deliveries' or, while it waits for room, anyone's), a delivery settled, or the
next event falling due, on the injected clock, so tests drive it with ManualClock. A
failing queue or delivery is logged and never stops it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from dataclasses import dataclass, field

from lambent.async_invoke.delivery import Attempt, Delivery
from lambent.async_invoke.due import DueView
from lambent.async_invoke.event import QueuedEvent
from lambent.async_invoke.policy import Action
from lambent.async_invoke.queue import DueFunction, EventQueue
from lambent.clock import Clock
from lambent.concurrency.admission import Admission, Lease
from lambent.concurrency.throttle import Throttle, ThrottleReason

log = logging.getLogger(__name__)
QUEUE_ERROR_PAUSE_S = 1.0
# Events of one function attempted per pass while other traffic holds its concurrency
# (each comes back throttled and backs off on its own schedule).
THROTTLE_BATCH = 64
# In cluster mode, how soon a function whose concurrency is used up cluster-wide is looked
# at again (other nodes giving leases back wake nobody here).
CLUSTER_RECHECK_S = 0.5

# What a lease counts against: one function's reservation, or an account's unreserved pool.
Capacity = tuple[str, ...]


def capacity_of(account_id: str, function_name: str, reserved: bool) -> Capacity:
    return ("reserved", account_id, function_name) if reserved else ("unreserved", account_id)


@dataclass
class SchedulerStats:
    in_flight: int = 0  # deliveries started and not yet settled
    attempts: int = 0  # attempts settled
    throttled: int = 0  # attempts that came back throttled (and backed off)
    # ... of which while this scheduler's own deliveries held some of the concurrency that
    # throttled them: the scheduler fighting itself. Always 0 unless something is wrong.
    throttled_by_own_deliveries: int = 0


@dataclass
class _Plan:
    leases: dict[str, list[Lease]]  # function ARN -> leases to run its events under
    throttled: list[DueFunction]  # functions whose concurrency other traffic holds
    blocked: set[str] = field(default_factory=set)  # functions that got no more leases


class Scheduler:
    def __init__(
        self,
        queue: EventQueue,
        delivery: Delivery,
        admission: Admission,
        clock: Clock,
        *,
        max_deliveries: int,
        lease_s: float,
    ) -> None:
        self._queue = queue
        self._due = DueView(queue)
        self._delivery = delivery
        self._admission = admission
        self._clock = clock
        self._max = max(1, max_deliveries)
        self._lease_s = lease_s
        self._wake = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._main: asyncio.Task[None] | None = None
        # Leases this scheduler holds, and what they count against.
        self._leases: set[Lease] = set()
        self._own: collections.Counter[Capacity] = collections.Counter()
        self._waiting: set[Capacity] = set()  # capacities a due function waits on
        self._recheck = False  # a function waits on room other nodes hold (cluster mode)
        self._served: dict[str, int] = {}  # function ARN -> turn it was last served
        self._turn = 0
        self.stats = SchedulerStats()
        admission.on_release(self._released)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def notify(self) -> None:
        """Something may be due now (an event was accepted)."""
        self._due.invalidate()
        self._wake.set()

    def start(self) -> None:
        if self._main is None:
            self._main = asyncio.create_task(self._run(), name="async-scheduler")

    async def stop(self, grace_s: float) -> None:
        """Stop claiming; give running deliveries `grace_s`, then cancel them and hand
        their events back to the queue for the next start."""
        if self._main is not None:
            self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._main
            self._main = None
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()), timeout=grace_s)
        unsettled = {eid: t for eid, t in self._tasks.items() if not t.done()}
        for task in unsettled.values():
            task.cancel()
        await asyncio.gather(*unsettled.values(), return_exceptions=True)
        if unsettled:
            try:
                await self._queue.release(list(unsettled))
            except Exception:
                log.exception("could not release %d claimed events", len(unsettled))

    # -- the loop ----------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                timeout = await self._pass()
            except Exception:
                log.exception("async event queue failed; retrying")
                self._due.invalidate()
                timeout = QUEUE_ERROR_PAUSE_S
            if timeout is None or timeout > 0:
                await self._sleep(timeout)

    async def _pass(self) -> float | None:
        """Start what may run now; return how long to sleep (None: until woken, 0: not at
        all)."""
        now = self._clock.time()
        more = False
        if len(self._tasks) < self._max:
            due = await self._due.due(now, self._max - len(self._tasks))
            more = await self._start(due, now)
        if more:
            return 0.0
        timeout = await self._due.sleep_for(now, self._clock.time())
        if self._recheck:
            timeout = CLUSTER_RECHECK_S if timeout is None else min(timeout, CLUSTER_RECHECK_S)
        return timeout

    async def _start(self, due: list[DueFunction], now: float) -> bool:
        """Lease, claim and start; True when more is due that only another pass will take
        (throttled events beyond one batch)."""
        self._waiting.clear()
        self._recheck = False
        plan = await self._plan(due, self._max - len(self._tasks), now)
        claims: list[tuple[str, int, list[Lease]]] = [
            (fn, len(leases), leases) for fn, leases in plan.leases.items() if leases
        ]
        room = self._max - len(self._tasks) - sum(n for _, n, _ in claims)
        more = False
        for d in plan.throttled:
            n = min(d.count, THROTTLE_BATCH, room)
            if n <= 0:
                continue
            claims.append((d.function_arn, n, []))
            room -= n
            more = more or n < d.count
        try:
            batches = await asyncio.gather(
                *(self._queue.claim(fn, now, n, self._lease_s) for fn, n, _ in claims)
            )
        except BaseException:
            for _, _, leases in claims:
                for lease in leases:
                    self._admission.give(lease)
            raise
        for (fn, asked, leases), events in zip(claims, batches, strict=True):
            self._due.claimed(fn, asked, len(events))
            self._turn += 1
            self._served[fn] = self._turn
            for i, event in enumerate(events):
                self._spawn(event, leases[i] if i < len(leases) else None)
            for lease in leases[len(events) :]:  # fewer events than counted: give back
                self._admission.give(lease)
        self._forget_idle(due)
        return more

    async def _plan(self, due: list[DueFunction], room: int, now: float) -> _Plan:
        """Take leases in rounds, one per function per round, least recently served first.

        A lease refused on the spot (`try_take`) is asked for once more with `acquire`, all
        such functions at once: in cluster mode the refusal may only mean this node holds
        no idle token yet, and `acquire` waits (briefly) for a block from the ledger. On one
        process `acquire` answers as `try_take` did, at once."""
        plan = _Plan({d.function_arn: [] for d in due}, [])
        active = sorted(due, key=lambda d: (self._served.get(d.function_arn, 0), d.due_at))
        try:
            while active and room > 0:
                refused: list[DueFunction] = []
                for d in active[:room]:
                    taken = self._admission.try_take(d.account_id, d.function_name)
                    if isinstance(taken, Throttle):
                        refused.append(d)
                    else:
                        self._lease(d, taken, plan)
                        room -= 1
                retried = await asyncio.gather(
                    *(self._admission.acquire(d.account_id, d.function_name) for d in refused)
                )
                for d, taken in zip(refused, retried, strict=True):
                    if isinstance(taken, Throttle):
                        elsewhere = await self._pollers_elsewhere(d, taken, now)
                        leased = bool(plan.leases[d.function_arn])
                        self._blocked(d, taken, plan, leased=leased, elsewhere=elsewhere)
                    else:
                        self._lease(d, taken, plan)
                        room -= 1
                blocked = {d.function_arn for d in refused if d.function_arn in plan.blocked}
                active = [
                    d
                    for d in active
                    if d.function_arn not in blocked and len(plan.leases[d.function_arn]) < d.count
                ]
        except BaseException:
            for leases in plan.leases.values():
                for lease in leases:
                    self._admission.give(lease)
            raise
        return plan

    def _lease(self, d: DueFunction, lease: Lease, plan: _Plan) -> None:
        self._adopt(lease)
        plan.leases[d.function_arn].append(lease)

    def _blocked(
        self, d: DueFunction, throttle: Throttle, plan: _Plan, *, leased: bool, elsewhere: bool
    ) -> None:
        """No more leases for `d`. While our own deliveries hold some of what stopped it,
        its events wait for a lease to come back (ours, or other traffic's); if it got none
        and only other traffic holds the concurrency, its events are throttled."""
        plan.blocked.add(d.function_arn)
        held = self._held_by_us(d.account_id, d.function_name, throttle)
        if held is not None:
            self._waiting.add(held)
        elif elsewhere:
            self._recheck = True
        elif not leased:
            plan.throttled.append(d)

    async def _pollers_elsewhere(self, d: DueFunction, throttle: Throttle, now: float) -> bool:
        """In cluster mode: whether other nodes' pollers hold some of the concurrency that
        stopped `d` (they hold claims on its events, or on the account's for the unreserved
        pool). Then its events wait, looked at again every CLUSTER_RECHECK_S, as they wait
        for this node's own deliveries: the pollers never throttle one another. If only
        other traffic holds it, they are attempted and throttled, as on one process."""
        if not self._admission.clustered or throttle.reserved == 0:
            return False
        if throttle.reason is ThrottleReason.RESERVED_CONCURRENCY:
            return await self._queue.claimed_elsewhere(d.account_id, d.function_arn, now)
        if throttle.reason is ThrottleReason.ACCOUNT_CONCURRENCY:
            return await self._queue.claimed_elsewhere(d.account_id, None, now)
        return False

    def _held_by_us(
        self, account_id: str, function_name: str, throttle: Throttle
    ) -> Capacity | None:
        """The capacity that throttled the function, if our own deliveries hold some of it."""
        if throttle.reason is ThrottleReason.RESERVED_CONCURRENCY:
            capacity = capacity_of(account_id, function_name, reserved=True)
        elif throttle.reason is ThrottleReason.ACCOUNT_CONCURRENCY:
            capacity = capacity_of(account_id, function_name, reserved=False)
        else:
            return None  # the scaling rate: no lease of ours holds it
        return capacity if self._own[capacity] > 0 else None

    def _forget_idle(self, due: list[DueFunction]) -> None:
        """Turns of functions with nothing due are dropped: one coming back is served first."""
        if len(self._served) > 2 * len(due) + 64:
            keep = {d.function_arn for d in due}
            self._served = {fn: t for fn, t in self._served.items() if fn in keep}

    # -- leases ------------------------------------------------------------------------------
    def _adopt(self, lease: Lease) -> None:
        self._leases.add(lease)
        self._own[capacity_of(lease.account_id, lease.function_name, lease.reserved)] += 1

    def _released(self, lease: Lease) -> None:
        """Admission gave a lease back (ours or anyone's): wake if it frees what we wait on."""
        capacity = capacity_of(lease.account_id, lease.function_name, lease.reserved)
        if lease in self._leases:
            self._leases.discard(lease)
            self._own[capacity] -= 1
            if self._own[capacity] <= 0:
                del self._own[capacity]
            self._wake.set()
        elif capacity in self._waiting:
            self._wake.set()

    # -- deliveries --------------------------------------------------------------------------
    def _spawn(self, event: QueuedEvent, lease: Lease | None) -> None:
        task = asyncio.create_task(
            self._deliver(event, lease), name=f"async-event-{event.event_id}"
        )
        self._tasks[event.event_id] = task
        self.stats.in_flight = len(self._tasks)

        def done(_: asyncio.Task[None]) -> None:
            if lease is not None:
                self._admission.give(lease)  # a task cancelled before it ran (no-op otherwise)
            self._tasks.pop(event.event_id, None)
            self.stats.in_flight = len(self._tasks)
            self._wake.set()

        task.add_done_callback(done)

    async def _deliver(self, event: QueuedEvent, lease: Lease | None) -> None:
        try:
            try:
                attempt = await self._delivery.attempt(event, lease)
            finally:
                if lease is not None:
                    self._admission.give(lease)  # the invocation is over; settling needs none
            self._observe(event, attempt)
            decision = await self._delivery.settle(event, attempt)
            self.stats.attempts += 1
            if decision.action is Action.RETRY:
                self._due.retry_scheduled()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("async event %s: settling failed; handing it back", event.event_id)
            with contextlib.suppress(Exception):
                await self._queue.release([event.event_id])
            self._due.invalidate()

    def _observe(self, event: QueuedEvent, attempt: Attempt) -> None:
        throttle = attempt.throttle
        if throttle is None:
            return
        self.stats.throttled += 1
        dest = event.destination
        if self._held_by_us(dest.account_id, dest.function_name, throttle) is not None:
            self.stats.throttled_by_own_deliveries += 1
            log.warning(
                "async event %s throttled (%s) while async deliveries held its concurrency",
                event.event_id,
                throttle.reason.value,
            )

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
