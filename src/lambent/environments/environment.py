"""One execution environment: a sandboxed runtime process, its Runtime API and its logs.

The environment outlives its process. A timeout, a crash or a failed init *resets* it:
the process is destroyed and the environment goes DORMANT, keeping its identity and log
stream; the next invocation starts a new process and runs init inside the invoke phase,
as Lambda's "suppressed init" does.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lambent.clock import Clock
from lambent.environments import platform_lines as lines
from lambent.environments.incarnation import Incarnation, body_error_type, spawn
from lambent.environments.invocation import (
    InvocationRequest,
    InvocationResult,
    LogCollector,
    error_payload,
)
from lambent.environments.lifecycle import EnvEvent, EnvState, transition
from lambent.functions.model import FunctionVersion
from lambent.logs.sink import LogEvent, LogSink
from lambent.runtime_api.server import Invocation, Kind, Outcome
from lambent.sandbox.interface import EnvironmentSpec, Template

log = logging.getLogger(__name__)

RESPONSE_TOO_LARGE = "Response payload size exceeded maximum allowed payload size (6291556 bytes)."


@dataclass(frozen=True)
class EnvironmentConfig:
    init_timeout_s: float
    shutdown_grace_s: float
    region: str
    freeze_after_s: float = 0.05


def _expire(answer: asyncio.Future[Outcome]) -> None:
    if not answer.done():
        answer.set_result(Outcome(Kind.TIMED_OUT))


@dataclass(frozen=True)
class _Timing:
    duration_ms: float
    init_ms: float | None
    restore_ms: float | None


@dataclass
class _InitResult:
    ok: bool
    duration_ms: float
    error_type: str | None = None
    body: bytes = b""
    timed_out: bool = False


class Environment:
    def __init__(
        self,
        env_id: str,
        version: FunctionVersion,
        template: Template,
        *,
        config: EnvironmentConfig,
        clock: Clock,
        sink: LogSink,
        variables: Mapping[str, str],
        log_stream: str,
        on_available: Callable[[Environment], None],
        on_crash: Callable[[Environment], None],
    ) -> None:
        self.env_id = env_id
        self.version = version
        self.state = EnvState.STARTING
        self.log_group = version.log_group or f"/aws/lambda/{version.function_name}"
        self.log_stream = log_stream
        self.created_at = clock.monotonic()
        self.last_used = self.created_at
        self.invocations = 0
        self._template = template
        self._config = config
        self._clock = clock
        self._sink = sink
        self._variables = dict(variables)
        self._on_available = on_available
        self._on_crash = on_crash
        self._inc: Incarnation | None = None
        self._collector: LogCollector | None = None
        self._batch: list[LogEvent] | None = None
        self._freeze_timer: asyncio.TimerHandle | None = None
        self._frozen = False
        self._pending_init_ms: float | None = None
        self._restored = False
        self._destroying: asyncio.Task[None] | None = None
        self._in_flight = False
        # Set by the pool while the runtime finishes an answered invocation.
        self.returning = False
        # Provisioned concurrency: made ahead of time, served first, never reaped.
        self.provisioned = False

    # -- state -----------------------------------------------------------------------------
    def _event(self, event: EnvEvent) -> None:
        self.state = transition(self.state, event)

    def _is(self, state: EnvState) -> bool:
        """A state check mypy does not narrow (the state changes behind awaits)."""
        return self.state is state

    @property
    def pid(self) -> int | None:
        return self._inc.proc.pid if self._inc else None

    # -- logs ------------------------------------------------------------------------------
    def _log(self, text: list[str]) -> None:
        """Log lines; during an invocation they are batched and written once at its end."""
        now_ms = int(self._clock.time() * 1000)
        events = [LogEvent(now_ms, t) for t in text]
        if self._batch is not None:
            self._batch.extend(events)
        else:
            self._sink.emit(self.version.account_id, self.log_group, self.log_stream, events)
        if self._collector is not None:
            self._collector.add(text)

    def _flush_batch(self) -> None:
        batch, self._batch = self._batch, None
        if batch:
            self._sink.emit(self.version.account_id, self.log_group, self.log_stream, batch)

    # -- start (init phase) ----------------------------------------------------------------
    def prewarmed(self) -> None:
        """Initialized ahead of any invocation (provisioned): no Init Duration on REPORT."""
        self._pending_init_ms = None

    async def start(self, init_timeout_s: float | None = None) -> bool:
        """The init phase, capped at the init timeout. False: init failed (now DORMANT)."""
        budget = init_timeout_s if init_timeout_s is not None else self._config.init_timeout_s
        result = await self._spawn_and_init(budget, phase="init")
        if result.ok:
            self._pending_init_ms = result.duration_ms
            if self.state is EnvState.STARTING:
                self._event(EnvEvent.INIT_OK)
            return True
        status = "timeout" if result.timed_out else "error"
        self._log(
            [
                lines.init_report(
                    result.duration_ms, phase="init", status=status, error_type=result.error_type
                )
            ]
        )
        await self._reset()
        if self.state is EnvState.STARTING:
            self._event(EnvEvent.INIT_FAILED)
        return False

    async def _spawn_and_init(self, budget_s: float, *, phase: str) -> _InitResult:
        began = self._clock.monotonic()
        if phase == "init":
            self._log([lines.init_start(self.version.runtime, self._config.region)])
        try:
            inc = await self._spawn()
        except Exception as exc:
            log.exception("spawning environment %s failed", self.env_id)
            return _InitResult(
                False,
                0.0,
                "Runtime.Unknown",
                error_payload("Runtime.Unknown", f"Lambent could not start the environment: {exc}"),
            )
        try:
            outcome = await asyncio.wait_for(inc.api.ready(), max(0.001, budget_s))
        except TimeoutError:
            return _InitResult(False, self._elapsed_ms(began), timed_out=True)
        duration = self._elapsed_ms(began)
        if outcome is None:
            self._restored = inc.proc.restored
            return _InitResult(True, duration)
        if outcome.kind is Kind.INIT_ERROR:
            error_type = outcome.error_type or "Runtime.Unknown"
            return _InitResult(False, duration, error_type, outcome.body)
        status = await inc.proc.wait()
        error_type = self._exit_error_type(inc)
        message = f"Runtime exited with error: {status.describe()}"
        return _InitResult(False, duration, error_type, error_payload(error_type, message))

    async def _spawn(self) -> Incarnation:
        spec = EnvironmentSpec(
            env_id=self.env_id,
            memory_mb=self.version.memory_mb,
            ephemeral_mb=self.version.ephemeral_mb,
            env=self._variables,
        )
        inc = await spawn(self._template, spec, on_idle=self._parked, on_lines=self._log)
        self._inc = inc
        inc.watcher = asyncio.get_running_loop().create_task(self._watch(inc))
        return inc

    async def _watch(self, inc: Incarnation) -> None:
        status = await inc.proc.wait()
        inc.exit_status = status
        inc.output.drain()
        inc.api.exited()
        between = self.state is EnvState.IDLE or (
            self.state is EnvState.BUSY and not self._in_flight
        )
        if self._inc is inc and between:
            # Died between invocations: reset, and let the pool know. (During init or an
            # invocation, whoever awaits the Runtime API handles the death.)
            await self._reset()
            self._event(EnvEvent.CRASH)
            self._on_crash(self)

    # -- invoke ----------------------------------------------------------------------------
    async def run(self, req: InvocationRequest) -> InvocationResult:
        self._event(EnvEvent.ACQUIRE)
        self._in_flight = True
        self.invocations += 1
        self._collector = LogCollector(req.want_tail)
        self._batch = []
        timeout_s = float(self.version.timeout_s)
        began = self._clock.monotonic()
        init_ms, restore_ms = self._pending_init_ms, None
        self._pending_init_ms = None
        if init_ms is not None and self._restored:
            restore_ms, init_ms = init_ms, None
        try:
            if self._inc is None or self._inc.exit_status is not None:
                failed = await self._suppressed_init(req, timeout_s)
                if failed is not None:
                    return failed
            return await self._invoke(req, began, timeout_s, init_ms, restore_ms)
        finally:
            self._in_flight = False
            self._flush_batch()
            self._collector = None
            self.last_used = self._clock.monotonic()

    async def _suppressed_init(
        self, req: InvocationRequest, timeout_s: float
    ) -> InvocationResult | None:
        began = self._clock.monotonic()
        result = await self._spawn_and_init(timeout_s, phase="invoke")
        if result.ok:
            return None
        duration = self._elapsed_ms(began)
        status = "timeout" if result.timed_out else "error"
        self._log(
            [
                lines.init_report(
                    duration, phase="invoke", status=status, error_type=result.error_type
                )
            ]
        )
        if result.timed_out:
            payload = self._timeout_payload(req.request_id, timeout_s)
            error_type = "Sandbox.Timedout"
        else:
            payload, error_type = result.body, result.error_type or "Runtime.Unknown"
        self._log([lines.start(req.request_id, self.version.version)])
        if result.timed_out:
            self._log([lines.timed_out(req.request_id, timeout_s, self._clock.time())])
        return await self._finish(
            req, _Timing(duration, None, None), payload, error_type, status=status, reset=True
        )

    async def _invoke(
        self,
        req: InvocationRequest,
        began: float,
        timeout_s: float,
        init_ms: float | None,
        restore_ms: float | None,
    ) -> InvocationResult:
        inc = self._inc
        assert inc is not None
        self._log([lines.start(req.request_id, self.version.version)])
        self._unfreeze(inc)
        remaining = timeout_s - (self._clock.monotonic() - began)
        deadline_ms = int((self._clock.time() + remaining) * 1000)
        inv = Invocation(
            request_id=req.request_id,
            payload=req.payload,
            deadline_ms=deadline_ms,
            invoked_function_arn=req.invoked_arn,
            trace_id=req.trace_id,
            client_context=req.client_context,
            cognito_identity=req.cognito_identity,
        )
        handler_began = self._clock.monotonic()
        answer = inc.api.deliver(inv)
        timer = asyncio.get_running_loop().call_later(max(0.001, remaining), _expire, answer)
        try:
            outcome = await answer
        finally:
            timer.cancel()
        if outcome.kind is Kind.TIMED_OUT:
            duration = self._elapsed_ms(began)
            inc.output.drain()
            self._log([lines.timed_out(req.request_id, timeout_s, self._clock.time())])
            payload = self._timeout_payload(req.request_id, timeout_s)
            return await self._finish(
                req,
                _Timing(duration, init_ms, restore_ms),
                payload,
                "Sandbox.Timedout",
                status="timeout",
                reset=True,
            )
        duration = self._elapsed_ms(handler_began)
        inc.output.drain(flush_partial=False)
        return await self._conclude(req, inc, outcome, duration, init_ms, restore_ms)

    async def _conclude(
        self,
        req: InvocationRequest,
        inc: Incarnation,
        outcome: Outcome,
        duration: float,
        init_ms: float | None,
        restore_ms: float | None,
    ) -> InvocationResult:
        timing = _Timing(duration, init_ms, restore_ms)
        if outcome.kind is Kind.RESPONSE:
            return await self._finish(req, timing, outcome.body, None)
        if outcome.kind is Kind.ERROR:
            # A function error is a completed invocation: no Status on the REPORT line.
            error_type = outcome.error_type or body_error_type(outcome.body)
            return await self._finish(req, timing, outcome.body, error_type)
        if outcome.kind is Kind.TOO_LARGE:
            payload = error_payload("Function.ResponseSizeTooLarge", RESPONSE_TOO_LARGE)
            return await self._finish(
                req, timing, payload, "Function.ResponseSizeTooLarge", status="error"
            )
        status = await inc.proc.wait()
        error_type = self._exit_error_type(inc)
        detail = status.describe()
        self._log([lines.exited(req.request_id, detail, error_type)])
        payload = error_payload(
            error_type, f"RequestId: {req.request_id} Error: Runtime exited with error: {detail}"
        )
        return await self._finish(req, timing, payload, error_type, status="error", reset=True)

    async def _finish(
        self,
        req: InvocationRequest,
        timing: _Timing,
        payload: bytes,
        error_type: str | None,
        *,
        status: str | None = None,
        reset: bool = False,
    ) -> InvocationResult:
        self._log([lines.end(req.request_id)])
        extra = timing.init_ms if timing.init_ms is not None else 0.0
        self._log(
            [
                lines.report(
                    req.request_id,
                    duration_ms=timing.duration_ms,
                    billed=lines.billed_ms(timing.duration_ms + extra),
                    memory_mb=self.version.memory_mb,
                    max_used_mb=self._max_memory_mb(),
                    init_ms=timing.init_ms,
                    restore_ms=timing.restore_ms,
                    status=status,
                    error_type=error_type if status else None,
                )
            ]
        )
        tail = self._collector.tail() if self._collector else None
        if reset:
            await self._reset()
            self._event(EnvEvent.RESET)
        return InvocationResult(
            payload=payload,
            executed_version=self.version.version,
            function_error="Unhandled" if error_type is not None else None,
            error_type=error_type,
            log_tail=tail,
            duration_ms=timing.duration_ms,
            cold=timing.init_ms is not None or timing.restore_ms is not None,
        )

    def _timeout_payload(self, request_id: str, timeout_s: float) -> bytes:
        return error_payload(
            "Sandbox.Timedout",
            f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds",
        )

    def _exit_error_type(self, inc: Incarnation) -> str:
        return "Runtime.OutOfMemory" if inc.proc.memory_limit_hit() else "Runtime.ExitError"

    def _max_memory_mb(self) -> int:
        if self._inc is None:
            return 0
        peak = self._inc.proc.memory_peak_bytes()
        return math.ceil(peak / (1024 * 1024)) if peak else 0

    def _elapsed_ms(self, since: float) -> float:
        return (self._clock.monotonic() - since) * 1000.0

    # -- idle, reset, retire ---------------------------------------------------------------
    def _parked(self) -> None:
        """The runtime is back in /next after an invocation: freeze and go back to the pool."""
        if self.state is EnvState.BUSY:
            self._event(EnvEvent.RELEASE)
            self._schedule_freeze()
            self._on_available(self)
        elif self.state is EnvState.DRAINING:
            self._event(EnvEvent.RELEASE)
            self._begin_destroy()

    def _schedule_freeze(self) -> None:
        """Freeze once idle for `freeze_after_s`: a busy function never pays freeze+thaw."""
        if self._freeze_timer is None:
            delay = self._config.freeze_after_s
            self._freeze_timer = asyncio.get_running_loop().call_later(delay, self.freeze_idle)

    def freeze_idle(self) -> None:
        self._freeze_timer = None
        if self._inc is not None and self.state is EnvState.IDLE and not self._frozen:
            self._inc.proc.freeze()
            self._frozen = True

    def _unfreeze(self, inc: Incarnation) -> None:
        if self._freeze_timer is not None:
            self._freeze_timer.cancel()
            self._freeze_timer = None
        if self._frozen:
            inc.proc.thaw()
            self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    async def _reset(self) -> None:
        if self._freeze_timer is not None:
            self._freeze_timer.cancel()
            self._freeze_timer = None
        self._frozen = False
        inc, self._inc = self._inc, None
        if inc is not None:
            await inc.teardown(self._config.shutdown_grace_s)

    def retire(self) -> None:
        """Stop taking invocations; a busy environment finishes its invocation first."""
        if self.state in (EnvState.RETIRING, EnvState.DEAD):
            return
        self._event(EnvEvent.RETIRE)
        if self._is(EnvState.RETIRING):
            self._begin_destroy()

    def _begin_destroy(self) -> None:
        if self._destroying is None:
            self._destroying = asyncio.get_running_loop().create_task(self._destroy())

    async def _destroy(self) -> None:
        await self._reset()
        self._event(EnvEvent.DESTROYED)

    async def closed(self) -> None:
        if self._destroying is not None:
            await asyncio.shield(self._destroying)
