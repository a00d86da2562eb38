"""Asynchronous invocation: accept durably, deliver through the invoke path, retry, send on.

    Invoke(Event) -> resolve + size check -> queue (fsync'd, group commit) -> 202
    scheduler (per function, within its free concurrency) -> Delivery
      (InvokeService.attempt) -> policy -> reschedule | destinations + complete

At start-up every claim left by a server that died mid-delivery goes back to the queue
before the scheduler starts, so an accepted event is delivered at least once, and the
backlog drains at the function's full concurrency. On PostgreSQL (a cluster) a node takes
back only its own claims; a dead node's lapse after its lease (async_invoke/postgres.py).
"""

from __future__ import annotations

import logging
import uuid

from lambent.async_invoke.config import AsyncCatalog
from lambent.async_invoke.delivery import Delivery, Invoker
from lambent.async_invoke.event import Destination, EventState, QueuedEvent
from lambent.async_invoke.policy import RetryTiming
from lambent.async_invoke.queue import EventQueue, QueueStats
from lambent.async_invoke.scheduler import Scheduler
from lambent.async_invoke.sqlite import SqliteQueue
from lambent.async_invoke.targets import FunctionTarget, Targets
from lambent.clock import Clock
from lambent.concurrency.admission import Admission
from lambent.errors import RequestTooLarge
from lambent.functions.model import LATEST, Resolved
from lambent.invoke.service import InvokeCall, trace_id
from lambent.settings import Settings

log = logging.getLogger(__name__)
QUEUE_FILE = "queue.db"


def too_large(size: int, limit: int) -> RequestTooLarge:
    """AWS's answer to an oversized Event invoke (413, its own error code)."""
    return RequestTooLarge(
        f"{size} byte payload is too large for the Event invocation type (limit {limit} bytes)",
        code="RequestEntityTooLargeException",
    )


def destination(resolved: Resolved) -> Destination:
    """Where the event goes: the alias, a published version, or $LATEST (no qualifier)."""
    version = resolved.version
    qualifier = resolved.alias or (None if version.version == LATEST else version.version)
    return Destination(version.account_id, version.function_arn, qualifier)


class AsyncInvocations:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        invoker: Invoker,
        catalog: AsyncCatalog,
        admission: Admission,
        queue: EventQueue | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._invoker = invoker
        self.queue: EventQueue = queue or SqliteQueue(settings.data_dir / QUEUE_FILE)
        self.targets = Targets([FunctionTarget(self.send_to_function)])
        cfg = settings.async_
        timing = RetryTiming(
            cfg.retry_base_s, cfg.throttle_backoff_base_s, cfg.throttle_backoff_max_s
        )
        self._delivery = Delivery(invoker, catalog, self.queue, self.targets, clock, timing)
        self.scheduler = Scheduler(
            self.queue,
            self._delivery,
            admission,
            clock,
            max_deliveries=cfg.max_deliveries,
            lease_s=cfg.claim_timeout_s,
        )
        # Another node accepted an event, scheduled a retry, or left lapsed claims (cluster
        # queues): this node's scheduler looks at once, as for its own acceptances.
        self.queue.on_remote(self.scheduler.notify)
        self._started = False

    # -- acceptance ------------------------------------------------------------------------
    async def accept(self, call: InvokeCall) -> str:
        """An Event invoke: resolved now (unknown function: ResourceNotFound, as AWS),
        durable when this returns. Returns the event id (the request id)."""
        limit = self._settings.limits.async_payload
        if len(call.payload) > limit:
            raise too_large(len(call.payload), limit)
        resolved = await self._invoker.resolve(
            call.account_id, call.function, call.qualifier, call.region
        )
        self._invoker.check_ready(resolved.version)
        await self._enqueue(call.request_id, destination(resolved), call.payload, call.trace_id)
        return call.request_id

    async def send_to_function(
        self,
        account: str,
        function: str,
        qualifier: str | None,
        payload: bytes,
        trace: str | None = None,
    ) -> str:
        """A destination or dead-letter function: invoked asynchronously, a new event."""
        limit = self._settings.limits.async_payload
        if len(payload) > limit:
            raise too_large(len(payload), limit)
        resolved = await self._invoker.resolve(account, function, qualifier)
        event_id = str(uuid.uuid4())
        await self._enqueue(event_id, destination(resolved), payload, trace)
        return event_id

    async def _enqueue(
        self, event_id: str, dest: Destination, payload: bytes, trace: str | None
    ) -> None:
        now = self._clock.time()
        state = EventState(enqueued_at=now, trace_id=trace or trace_id(now))
        await self.queue.enqueue(QueuedEvent(event_id, dest, payload, state, available_at=now))
        self.scheduler.notify()

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        recovered = await self.queue.recover()
        if recovered:
            log.info("async: %d events whose delivery was cut off are queued again", recovered)
        self.scheduler.start()
        self._started = True

    async def stop(self) -> None:
        if self._started:
            await self.scheduler.stop(self._settings.async_.stop_grace_s)
            self._started = False
        await self.queue.close()

    async def stats(self) -> QueueStats:
        return await self.queue.stats()

    async def snapshot(self) -> dict[str, int]:
        """The operator's view (`/_lambent/stats`): the queue and the scheduler's counters."""
        queue = await self.queue.stats()
        counters = self.scheduler.stats
        return {
            "queued": queue.queued,
            "claimed": queue.claimed,
            "in_flight": counters.in_flight,
            "attempts": counters.attempts,
            "throttled": counters.throttled,
            "throttled_by_own_deliveries": counters.throttled_by_own_deliveries,
            "destination_delivery_failures": self._delivery.destination_delivery_failures,
            "dead_letter_errors": self._delivery.dead_letter_errors,
        }
