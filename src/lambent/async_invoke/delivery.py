"""One attempt at one event: run it through the invoke path, let the policy decide, settle.

The attempt goes through `InvokeService.attempt`, so an async event takes the same admission
lease and environment lease as a sync invoke; the scheduler usually holds the admission
lease already (it claims only what can run). What came of it is a typed outcome
(invoke/outcome.py), mapped here onto the retry policy's kinds: no HTTP status is read.
The request id the function sees is the event id (the one the caller got with its 202),
on every attempt, as on AWS.

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
from lambent.concurrency.admission import Lease
from lambent.concurrency.throttle import Throttle
from lambent.environments.invocation import InvocationRequest, InvocationResult
from lambent.functions.model import FunctionVersion, Resolved
from lambent.invoke.outcome import (
    FunctionFailed,
    InvokeOutcome,
    NotFound,
    NotReady,
    Succeeded,
    Superseded,
    Throttled,
    Unavailable,
)
from lambent.invoke.recursion import RecursionGuard
from lambent.invoke.service import trace_id
from lambent.oplog import event as oplog

log = logging.getLogger(__name__)
RETIRED_POOL_TRIES = 3


class Invoker(Protocol):
    """The part of InvokeService async invocation uses (the invoke path, shared)."""

    recursion: RecursionGuard

    async def resolve(
        self, account_id: str, function: str, qualifier: str | None, region: str | None = None
    ) -> Resolved:
        """For acceptance: raises AWS's errors, which the 202's caller gets."""

    def check_ready(self, version: FunctionVersion) -> None: ...

    async def locate(
        self, account_id: str, function: str, qualifier: str | None
    ) -> Resolved | NotFound:
        """For delivery: the function as it is now, or a typed not-found."""

    async def attempt(
        self, resolved: Resolved, req: InvocationRequest, lease: Lease | None = None
    ) -> InvokeOutcome: ...


@dataclass(frozen=True, slots=True)
class Attempt:
    outcome: Outcome
    config: AsyncConfig
    function_arn: str  # qualified, for the record's requestContext.functionArn
    throttle: Throttle | None = None  # what throttled the attempt, if anything did
    trace: str | None = None  # the trace the invocation carried on (destinations carry it)


def _response(result: InvocationResult) -> Response:
    return Response(result.payload, result.executed_version, result.function_error)


def policy_outcome(outcome: InvokeOutcome) -> Outcome:
    """The retry policy's view of what happened."""
    match outcome:
        case Succeeded(result):
            return Outcome(OutcomeKind.SUCCESS, _response(result))
        case FunctionFailed(result):
            return Outcome(OutcomeKind.FUNCTION_ERROR, _response(result))
        case Throttled(throttle) if throttle.reserved == 0:
            return Outcome(OutcomeKind.ZERO_CONCURRENCY, detail=throttle.reason.value)
        case Throttled(throttle):
            return Outcome(OutcomeKind.THROTTLED, detail=throttle.reason.value)
        case NotFound():
            return Outcome(OutcomeKind.GONE)
        case NotReady(state):
            return Outcome(OutcomeKind.SYSTEM_ERROR, detail=f"function state {state}")
        case Unavailable(detail):
            return Outcome(OutcomeKind.SYSTEM_ERROR, detail=detail)
        case Superseded():
            return Outcome(OutcomeKind.SYSTEM_ERROR, detail="environment pool retired")
    raise AssertionError(f"unknown outcome {outcome!r}")  # pragma: no cover


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
        self.destination_delivery_failures = 0
        self.dead_letter_errors = 0

    async def deliver(self, event: QueuedEvent, lease: Lease | None = None) -> Decision:
        return await self.settle(event, await self.attempt(event, lease))

    # -- the attempt -----------------------------------------------------------------------
    async def attempt(self, event: QueuedEvent, lease: Lease | None = None) -> Attempt:
        """Run the event once. `lease`: the function's admission lease, held by the caller
        (who gives it back); without one the attempt takes its own or is throttled."""
        dest = event.destination
        config, arn = AsyncConfig(), dest.qualified_arn
        for _ in range(RETIRED_POOL_TRIES):
            resolved = await self._invoker.locate(
                dest.account_id, dest.function_arn, dest.qualifier
            )
            if isinstance(resolved, NotFound):
                return Attempt(Outcome(OutcomeKind.GONE), config, arn)
            config = async_config(
                await self._catalog.event_invoke_config(
                    dest.account_id, dest.function_name, dest.qualifier
                ),
                resolved.version.config,
            )
            arn = resolved.alias_arn or resolved.version.qualified_arn
            if expired(event.state, self._clock.time(), config.retry):
                return Attempt(Outcome(OutcomeKind.EXPIRED), config, arn)
            trace = self._invoker.recursion.enter(
                resolved.version,
                event.state.trace_id or trace_id(self._clock.time()),
                event.event_id,
            )
            if trace is None:
                return Attempt(Outcome(OutcomeKind.RECURSIVE_LOOP), config, arn)
            req = InvocationRequest(
                request_id=event.event_id,
                payload=event.payload,
                invoked_arn=resolved.invoked_arn,
                trace_id=trace,
            )
            outcome = await self._invoker.attempt(resolved, req, lease)
            if isinstance(outcome, Superseded):
                continue  # the function changed while we waited: resolve it again, now
            if isinstance(outcome, Unavailable | NotReady):
                oplog(
                    log,
                    logging.WARNING,
                    "async.unavailable",
                    "async event %s could not run: %s",
                    event.event_id,
                    outcome,
                    request_id=event.event_id,
                    function=arn,
                )
            throttle = outcome.throttle if isinstance(outcome, Throttled) else None
            return Attempt(policy_outcome(outcome), config, arn, throttle, trace)
        return Attempt(policy_outcome(Superseded()), config, arn)

    # -- settling --------------------------------------------------------------------------
    async def settle(self, event: QueuedEvent, attempt: Attempt) -> Decision:
        decision = decide(
            event.state, attempt.outcome, self._clock.time(), attempt.config.retry, self._timing
        )
        if decision.action is Action.RETRY:
            assert decision.at is not None
            self._log_retry(event, attempt, decision)
            await self._queue.reschedule(event.event_id, decision.state, decision.at)
            return decision
        if decision.action is Action.DROP and attempt.outcome.kind is OutcomeKind.GONE:
            oplog(
                log,
                logging.WARNING,
                "async.dropped",
                "async event %s dropped: %s no longer exists",
                event.event_id,
                event.destination.qualified_arn,
                request_id=event.event_id,
                function=event.destination.qualified_arn,
            )
        elif decision.condition is not None:
            await self._send(event, attempt, decision, decision.condition)
        await self._queue.complete(event.event_id)
        return decision

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
            message = destination_message(record, source, attempt.trace)
            failed = await self._targets.send(target, message)
            if failed is not None:
                self._log_undelivered(event, source, target, "destination", failed)
        if not success and cfg.dead_letter is not None:
            message = dead_letter_message(event, source, response, attempt.trace)
            failed = await self._targets.send(cfg.dead_letter, message)
            if failed is not None:
                self._log_undelivered(event, source, cfg.dead_letter, "dead-letter", failed)
        if not success and target is None and cfg.dead_letter is None:
            oplog(
                log,
                logging.WARNING,
                "async.discarded",
                "async event %s for %s discarded (%s after %d attempts): "
                "no OnFailure destination or dead-letter target",
                event.event_id,
                source,
                condition.value,
                decision.state.attempts,
                request_id=event.event_id,
                function=source,
                condition=condition.value,
                attempts=decision.state.attempts,
            )

    def _log_retry(self, event: QueuedEvent, attempt: Attempt, decision: Decision) -> None:
        """A retry after a function or system error is worth a warning; a throttled event
        waiting for room is routine (INFO)."""
        kind = attempt.outcome.kind
        assert decision.at is not None
        oplog(
            log,
            logging.INFO if kind is OutcomeKind.THROTTLED else logging.WARNING,
            "async.retry",
            "async event %s for %s: %s, retrying in %.1f s",
            event.event_id,
            attempt.function_arn,
            kind.value,
            decision.at - self._clock.time(),
            request_id=event.event_id,
            function=attempt.function_arn,
            reason=kind.value,
            detail=attempt.outcome.detail or None,
            attempts=decision.state.attempts,
            retry_in_s=round(decision.at - self._clock.time(), 3),
        )

    def _log_undelivered(
        self, event: QueuedEvent, source: str, target: str, kind: str, why: str
    ) -> None:
        # AWS's metrics: DestinationDeliveryFailures and DeadLetterErrors.
        if kind == "dead-letter":
            self.dead_letter_errors += 1
        else:
            self.destination_delivery_failures += 1
        oplog(
            log,
            logging.WARNING,
            "async.destination_failed",
            "async event %s for %s: the %s record could not be delivered to %s: %s",
            event.event_id,
            source,
            kind,
            target,
            why,
            request_id=event.event_id,
            function=source,
            destination=target,
            kind=kind,
            detail=why,
        )
