"""Running one batch through the function, as Lambda's pollers do: a synchronous invoke.

The invoke goes through InvokeService.attempt, which takes the function's admission lease
(reserved concurrency, the account quota and, in a cluster, the shared ledger) or answers
with the throttle; the poller then backs off and keeps its records. The answer is reduced
to what a poller decides from (source.py's Settlement, or Retry for a throttle).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from lambent.clock import Clock
from lambent.environments.invocation import InvocationRequest
from lambent.event_sources.pollers.responses import settlement
from lambent.event_sources.pollers.source import Failure, Settlement
from lambent.invoke.outcome import (
    FunctionFailed,
    InvokeOutcome,
    NotFound,
    NotReady,
    Succeeded,
    Superseded,
    Throttled,
)
from lambent.invoke.service import InvokeService, trace_id


@dataclass(frozen=True, slots=True)
class Retry:
    """Nothing ran (a throttle, a function not ready): keep the batch, try after a pause."""

    reason: str


@dataclass(frozen=True, slots=True)
class Target:
    account: str
    function: str  # the mapping's FunctionArn (qualified if the mapping is)
    report_failures: bool


class BatchInvoker(Protocol):
    async def __call__(self, target: Target, payload: bytes, ids: list[str]) -> Settlement | Retry:
        """Run the batch once and say what became of it."""


class ServiceInvoker:
    """The BatchInvoker App wires: InvokeService, locally or through a frontend's workers."""

    def __init__(self, invoker: InvokeService, clock: Clock) -> None:
        self._invoker = invoker
        self._clock = clock

    async def __call__(self, target: Target, payload: bytes, ids: list[str]) -> Settlement | Retry:
        outcome: InvokeOutcome = Superseded()
        for _ in range(3):  # an update retired the environments while we waited
            resolved = await self._invoker.locate(target.account, target.function, None)
            if isinstance(resolved, NotFound):
                return Retry(resolved.message)
            req = InvocationRequest(
                request_id=str(uuid.uuid4()),
                payload=payload,
                invoked_arn=resolved.invoked_arn,
                trace_id=trace_id(self._clock.time()),
            )
            outcome = await self._invoker.attempt(resolved, req)
            if not isinstance(outcome, Superseded):
                break
        return decide(outcome, ids, target.report_failures)


def decide(outcome: InvokeOutcome, ids: list[str], report_failures: bool) -> Settlement | Retry:
    if isinstance(outcome, Succeeded):
        return settlement(outcome.result.payload, ids, report_failures)
    if isinstance(outcome, FunctionFailed):  # its error, a timeout, a crash: all of it
        return Failure()
    if isinstance(outcome, Throttled):
        return Retry(outcome.throttle.reason.value)
    if isinstance(outcome, NotReady):
        return Retry(f"function is {outcome.state}")
    return Retry(type(outcome).__name__)
