"""One attempt at one event: run it through the sync path, let the policy decide, settle.

The attempt goes through `InvokeService.run`, so an async event takes the same admission
lease and environment lease as a sync invoke; a throttle comes back as an outcome. The
request id the function sees is the event id (the one the caller got with its 202), on
every attempt, as on AWS.

Settling sends records before it completes the event: a crash in between repeats the
send rather than losing it (at-least-once, like the rest of the queue).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from lambent.async_invoke.config import AsyncCatalog, AsyncConfig, async_config
from lambent.async_invoke.event import QueuedEvent, Response
from lambent.async_invoke.policy import (
    Action,
    Condition,
    Decision,
    Outcome,
    OutcomeKind,
    RetryTiming,
    decide,
    expired,
)
from lambent.async_invoke.queue import EventQueue
from lambent.async_invoke.records import (
    dead_letter_message,
    destination_message,
    invocation_record,
)
from lambent.async_invoke.targets import Targets
from lambent.clock import Clock
from lambent.environments.invocation import InvocationRequest, InvocationResult
from lambent.environments.pool import PoolRetired
from lambent.errors import ResourceConflict, ResourceNotFound, ServiceError, TooManyRequests
from lambent.functions.model import FunctionVersion, Resolved

log = logging.getLogger(__name__)
RETIRED_POOL_TRIES = 3


class Invoker(Protocol):
    """The part of InvokeService async delivery uses (the sync path, shared)."""

    def resolve(
        self, account_id: str, function: str, qualifier: str | None, region: str | None = None
    ) -> Resolved: ...

    def route(self, resolved: Resolved) -> FunctionVersion: ...

    def check_ready(self, version: FunctionVersion) -> None: ...

    async def run(
        self, version: FunctionVersion, resolved: Resolved, req: InvocationRequest
    ) -> InvocationResult: ...


@dataclass(frozen=True, slots=True)
class Attempt:
    outcome: Outcome
    config: AsyncConfig
    function_arn: str  # qualified, for the record's requestContext.functionArn


class Delivery:
    def __init__(
        self,
        invoker: Invoker,
        catalog: AsyncCatalog,
        queue: EventQueue,
        targets: Targets,
        clock: Clock,
        timing: RetryTiming,
    ) -> None:
        self._invoker = invoker
        self._catalog = catalog
        self._queue = queue
        self._targets = targets
        self._clock = clock
        self._timing = timing

    async def deliver(self, event: QueuedEvent) -> Decision:
        attempt = await self._attempt(event)
        cfg = attempt.config
        decision = decide(event.state, attempt.outcome, self._clock.time(), cfg.retry, self._timing)
        await self._settle(event, attempt, decision)
        return decision

    # -- the attempt -----------------------------------------------------------------------
    async def _attempt(self, event: QueuedEvent) -> Attempt:
        dest = event.destination
        for _ in range(RETIRED_POOL_TRIES):
            try:
                resolved = self._invoker.resolve(dest.account_id, dest.function_arn, dest.qualifier)
            except ResourceNotFound:
                return Attempt(Outcome(OutcomeKind.GONE), AsyncConfig(), dest.qualified_arn)
            config = async_config(
                self._catalog.event_invoke_config(
                    dest.account_id, dest.function_name, dest.qualifier
                ),
                resolved.version.config,
            )
            arn = resolved.alias_arn or resolved.version.qualified_arn
            if expired(event.state, self._clock.time(), config.retry):
                return Attempt(Outcome(OutcomeKind.EXPIRED), config, arn)
            try:
                return Attempt(await self._run(event, resolved), config, arn)
            except PoolRetired:
                continue  # the function changed while we waited: resolve it again, now
        outcome = Outcome(OutcomeKind.SYSTEM_ERROR, detail="environment pool retired")
        return Attempt(outcome, config, arn)

    async def _run(self, event: QueuedEvent, resolved: Resolved) -> Outcome:
        dest = event.destination
        try:
            version = self._invoker.route(resolved)
            self._invoker.check_ready(version)
            req = InvocationRequest(
                request_id=event.event_id,
                payload=event.payload,
                invoked_arn=resolved.invoked_arn,
                trace_id=event.state.trace_id,
            )
            result = await self._invoker.run(version, resolved, req)
        except TooManyRequests as exc:
            if self._catalog.reserved_concurrency(dest.account_id, dest.function_name) == 0:
                return Outcome(OutcomeKind.ZERO_CONCURRENCY, detail=exc.reason)
            return Outcome(OutcomeKind.THROTTLED, detail=exc.reason)
        except ResourceNotFound:
            return Outcome(OutcomeKind.GONE)
        except PoolRetired:
            raise
        except ResourceConflict as exc:
            return Outcome(OutcomeKind.SYSTEM_ERROR, detail=repr(exc))
        except ServiceError as exc:
            log.warning("async event %s: %s", event.event_id, exc)
            return Outcome(OutcomeKind.SYSTEM_ERROR, detail=repr(exc))
        except Exception as exc:
            log.exception("async event %s: delivery failed", event.event_id)
            return Outcome(OutcomeKind.SYSTEM_ERROR, detail=repr(exc))
        response = Response(result.payload, result.executed_version, result.function_error)
        kind = OutcomeKind.FUNCTION_ERROR if result.failed else OutcomeKind.SUCCESS
        return Outcome(kind, response)

    # -- settling --------------------------------------------------------------------------
    async def _settle(self, event: QueuedEvent, attempt: Attempt, decision: Decision) -> None:
        if decision.action is Action.RETRY:
            assert decision.at is not None
            await self._queue.reschedule(event.event_id, decision.state, decision.at)
            return
        if decision.action is Action.DROP:
            log.warning(
                "async event %s dropped: %s no longer exists",
                event.event_id,
                event.destination.qualified_arn,
            )
        elif decision.condition is not None:
            await self._send(event, attempt, decision, decision.condition)
        await self._queue.complete(event.event_id)

    async def _send(
        self, event: QueuedEvent, attempt: Attempt, decision: Decision, condition: Condition
    ) -> None:
        cfg = attempt.config
        success = condition is Condition.SUCCESS
        response = attempt.outcome.response if success else decision.state.last_response
        source = attempt.function_arn
        target = cfg.on_success if success else cfg.on_failure
        if target is not None:
            record = invocation_record(
                event, condition, source, self._clock.time(), decision.state.attempts, response
            )
            await self._targets.send(target, destination_message(record, source))
        if not success and cfg.dead_letter is not None:
            await self._targets.send(cfg.dead_letter, dead_letter_message(event, source, response))
        if not success and target is None and cfg.dead_letter is None:
            log.warning(
                "async event %s for %s discarded (%s after %d attempts): "
                "no OnFailure destination or dead-letter target",
                event.event_id,
                source,
                condition.value,
                decision.state.attempts,
            )
