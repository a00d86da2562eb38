"""One invocation on one environment, from START to REPORT.

Owns the invocation's timing and the mapping from the Runtime API's outcome to what the
caller and the log see: a response, a function error, or one of Lambda's platform errors
(Sandbox.Timedout, Runtime.ExitError, Runtime.OutOfMemory, Function.ResponseSizeTooLarge)
in AWS's exact shape, resetting the environment where Lambda would.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lambent.environments.incarnation import Incarnation, body_error_type
from lambent.environments.invocation import InvocationRequest, InvocationResult, error_payload
from lambent.environments.lifecycle import EnvEvent
from lambent.environments.platform_lines import billed_ms
from lambent.runtime_api.server import Invocation, Kind, Outcome

if TYPE_CHECKING:
    from lambent.environments.environment import Environment

RESPONSE_TOO_LARGE = "Response payload size exceeded maximum allowed payload size (6291556 bytes)."


@dataclass(frozen=True)
class Timing:
    duration_ms: float
    init_ms: float | None
    restore_ms: float | None


def _expire(answer: asyncio.Future[Outcome]) -> None:
    if not answer.done():
        answer.set_result(Outcome(Kind.TIMED_OUT))


def timeout_payload(request_id: str, timeout_s: float) -> bytes:
    return error_payload(
        "Sandbox.Timedout",
        f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds",
    )


class InvocationRun:
    def __init__(self, env: Environment, req: InvocationRequest) -> None:
        self.env = env
        self.req = req
        self.timeout_s = float(env.version.timeout_s)
        self.began = env.clock.monotonic()

    def _elapsed_ms(self, since: float) -> float:
        return (self.env.clock.monotonic() - since) * 1000.0

    async def suppressed_init(self) -> InvocationResult | None:
        """Init again inside the invoke phase (after a reset); a result means it failed."""
        req, env = self.req, self.env
        result = await env.spawn_and_init(self.timeout_s, phase="invoke")
        if result.ok:
            env.platform.init_done(result.duration_ms, phase="invoke", init_type=env.init_type)
            return None
        duration = self._elapsed_ms(self.began)
        status = "timeout" if result.timed_out else "error"
        env.platform.init_failed(
            duration,
            phase="invoke",
            status=status,
            error_type=result.error_type,
            init_type=env.init_type,
            request_id=req.request_id,
        )
        if result.timed_out:
            payload = timeout_payload(req.request_id, self.timeout_s)
            error_type = "Sandbox.Timedout"
        else:
            payload, error_type = result.body, result.error_type or "Runtime.Unknown"
        env.platform.start(req.request_id)
        if result.timed_out:
            env.platform.timed_out(req.request_id, self.timeout_s)
        return await self.finish(
            Timing(duration, None, None), payload, error_type, status=status, reset=True
        )

    async def invoke(
        self, inc: Incarnation, init_ms: float | None, restore_ms: float | None
    ) -> InvocationResult:
        req, clock = self.req, self.env.clock
        self.env.platform.start(req.request_id)
        remaining = self.timeout_s - (clock.monotonic() - self.began)
        inv = Invocation(
            request_id=req.request_id,
            payload=req.payload,
            deadline_ms=int((clock.time() + remaining) * 1000),
            invoked_function_arn=req.invoked_arn,
            trace_id=req.trace_id,
            client_context=req.client_context,
            cognito_identity=req.cognito_identity,
        )
        handler_began = clock.monotonic()
        answer = inc.api.deliver(inv)
        timer = self.env.call_later(max(0.001, remaining), _expire, answer)
        try:
            outcome = await answer
        finally:
            timer.cancel()
        if outcome.kind is Kind.TIMED_OUT:
            inc.output.drain()
            self.env.platform.timed_out(req.request_id, self.timeout_s)
            return await self.finish(
                Timing(self._elapsed_ms(self.began), init_ms, restore_ms),
                timeout_payload(req.request_id, self.timeout_s),
                "Sandbox.Timedout",
                status="timeout",
                reset=True,
            )
        inc.output.drain(flush_partial=False)
        timing = Timing(self._elapsed_ms(handler_began), init_ms, restore_ms)
        return await self.conclude(inc, outcome, timing)

    async def conclude(
        self, inc: Incarnation, outcome: Outcome, timing: Timing
    ) -> InvocationResult:
        if outcome.kind is Kind.RESPONSE:
            return await self.finish(timing, outcome.body, None)
        if outcome.kind is Kind.ERROR:
            # A function error is a completed invocation: no Status on the REPORT line.
            error_type = outcome.error_type or body_error_type(outcome.body)
            return await self.finish(timing, outcome.body, error_type)
        if outcome.kind is Kind.TOO_LARGE:
            payload = error_payload("Function.ResponseSizeTooLarge", RESPONSE_TOO_LARGE)
            return await self.finish(
                timing, payload, "Function.ResponseSizeTooLarge", status="error"
            )
        status = await inc.proc.wait()
        error_type = exit_error_type(inc)
        detail = status.describe()
        rid = self.req.request_id
        self.env.platform.exited(rid, detail, error_type)
        payload = error_payload(
            error_type, f"RequestId: {rid} Error: Runtime exited with error: {detail}"
        )
        return await self.finish(timing, payload, error_type, status="error", reset=True)

    async def finish(
        self,
        timing: Timing,
        payload: bytes,
        error_type: str | None,
        *,
        status: str | None = None,
        reset: bool = False,
    ) -> InvocationResult:
        env, rid = self.env, self.req.request_id
        env.platform.end(
            rid,
            status=status,
            error_type=error_type if status else None,
            duration_ms=timing.duration_ms,
            produced_bytes=len(payload) if status is None else 0,
        )
        extra = timing.init_ms if timing.init_ms is not None else 0.0
        env.platform.report(
            rid,
            duration_ms=timing.duration_ms,
            billed_ms=billed_ms(timing.duration_ms + extra),
            max_used_mb=env.max_memory_mb(),
            init_ms=timing.init_ms,
            restore_ms=timing.restore_ms,
            status=status,
            error_type=error_type,
        )
        tail = env.collector.tail() if env.collector else None
        if reset:
            await env.reset()
            env.event(EnvEvent.RESET)
        return InvocationResult(
            payload=payload,
            executed_version=env.version.version,
            function_error="Unhandled" if error_type is not None else None,
            error_type=error_type,
            log_tail=tail,
            duration_ms=timing.duration_ms,
            cold=timing.init_ms is not None or timing.restore_ms is not None,
        )


def exit_error_type(inc: Incarnation) -> str:
    return "Runtime.OutOfMemory" if inc.proc.memory_limit_hit() else "Runtime.ExitError"
