"""One execution environment: a sandboxed runtime process, its Runtime API and its logs.

The environment outlives its process. A timeout, a crash or a failed init *resets* it:
the process is destroyed and the environment goes DORMANT, keeping its identity and log
stream; the next invocation starts a new process and runs init inside the invoke phase,
as Lambda's "suppressed init" does. Every phase is a state of `lifecycle.LIFECYCLE`; every
timer (init timeout, freeze delay, shutdown grace) runs on the injected clock.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lambent.clock import Clock, Timer, within
from lambent.environments.incarnation import Incarnation, spawn
from lambent.environments.invocation import (
    InvocationRequest,
    InvocationResult,
    LogCollector,
    error_payload,
)
from lambent.environments.lifecycle import BETWEEN, EnvEvent, EnvState, transition
from lambent.environments.log_levels import application_filter
from lambent.environments.platform_log import PlatformLog
from lambent.environments.run import InvocationRun, exit_error_type
from lambent.functions.model import FunctionVersion
from lambent.logs.sink import LogEvent, LogSink
from lambent.oplog import event
from lambent.runtime_api.server import Kind
from lambent.runtime_api.state import RtState
from lambent.sandbox.interface import EnvironmentSpec, Template

log = logging.getLogger(__name__)

PEAK_REFRESH_S = 0.1


@dataclass(frozen=True)
class EnvironmentConfig:
    init_timeout_s: float
    shutdown_grace_s: float
    region: str
    freeze_after_s: float = 0.2


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
        self.clock = clock
        # The clock's timer, bound to this loop once: two timers per warm invocation.
        self.call_later = clock.scheduler()
        self._sink = sink
        self._variables = dict(variables)
        self._on_available = on_available
        self._on_crash = on_crash
        self._inc: Incarnation | None = None
        self.collector: LogCollector | None = None
        self._batch: list[LogEvent] | None = None
        self._freeze_timer: Timer | None = None
        self._peak_mb: int | None = None
        self._peak_read_at = 0.0
        # The init (or restore) duration the first invocation's REPORT carries.
        self._pending_init_ms: float | None = None
        self._pending_restore_ms: float | None = None
        self._destroying: asyncio.Task[None] | None = None
        self._crashing: asyncio.Task[None] | None = None
        # An invocation is running (BUSY, or DRAINING before its end).
        self._in_flight = False
        # Provisioned concurrency: made ahead of time, served first, never reaped.
        self.provisioned = False
        # Lambda's own lines (Text or JSON records), and the ApplicationLogLevel filter
        # Lambda applies to the function's output in the JSON format.
        self.platform = PlatformLog(version, config.region, env_id, clock, self.log_lines)
        self._app_filter = application_filter(version.log_format, version.application_log_level)

    # -- state -----------------------------------------------------------------------------
    def event(self, event: EnvEvent) -> None:
        self.state = transition(self.state, event)

    def _is(self, state: EnvState) -> bool:
        """A state check mypy does not narrow (the state changes behind awaits)."""
        return self.state is state

    @property
    def pid(self) -> int | None:
        return self._inc.proc.pid if self._inc else None

    # -- logs ------------------------------------------------------------------------------
    def log_lines(self, text: list[str]) -> None:
        """Log lines; during an invocation they are batched and written once at its end."""
        now_ms = int(self.clock.time() * 1000)
        events = [LogEvent(now_ms, t) for t in text]
        if self._batch is not None:
            self._batch.extend(events)
        else:
            self._sink.emit(self.version.account_id, self.log_group, self.log_stream, events)
        if self.collector is not None:
            self.collector.add(text)

    def app_lines(self, text: list[str]) -> None:
        """The function's own output, less what its ApplicationLogLevel filters out."""
        if self._app_filter is not None:
            text = self._app_filter(text)
            if not text:
                return
        self.log_lines(text)

    @property
    def init_type(self) -> str:
        """AWS_LAMBDA_INITIALIZATION_TYPE of this environment."""
        if self.provisioned:
            return "provisioned-concurrency"
        return "snap-start" if self.version.snapstart else "on-demand"

    def _flush_batch(self) -> None:
        batch, self._batch = self._batch, None
        if batch:
            self._sink.emit(self.version.account_id, self.log_group, self.log_stream, batch)

    # -- start (init phase) ----------------------------------------------------------------
    def prewarmed(self) -> None:
        """Initialized ahead of any invocation (provisioned): no Init Duration on REPORT."""
        self._pending_init_ms = self._pending_restore_ms = None

    def _starting(self) -> bool:
        return self.state is EnvState.STARTING or self.state is EnvState.RESTORED

    async def start(self, init_timeout_s: float | None = None) -> bool:
        """The init phase, capped at the init timeout. False: init failed (now DORMANT)."""
        budget = init_timeout_s if init_timeout_s is not None else self._config.init_timeout_s
        result = await self.spawn_and_init(budget, phase="init")
        if result.ok:
            if self._is(EnvState.RESTORED):
                self._pending_restore_ms = result.duration_ms
            else:
                self._pending_init_ms = result.duration_ms
            self.platform.init_done(result.duration_ms, phase="init", init_type=self.init_type)
            event(
                log,
                logging.DEBUG,
                "environment.started",
                "environment %s of %s ready in %.1f ms",
                self.env_id,
                self.version.qualified_arn,
                result.duration_ms,
                function=self.version.qualified_arn,
                environment=self.env_id,
                init_ms=round(result.duration_ms, 3),
            )
            if self._starting():
                self.event(EnvEvent.INIT_OK)
                self._schedule_freeze()  # unless an invocation takes it first
            return True
        self.platform.init_failed(
            result.duration_ms,
            phase="init",
            status="timeout" if result.timed_out else "error",
            error_type=result.error_type,
            init_type=self.init_type,
        )
        await self.reset()
        if self._starting():
            self.event(EnvEvent.INIT_FAILED)
        return False

    async def spawn_and_init(self, budget_s: float, *, phase: str) -> _InitResult:
        began = self.clock.monotonic()
        if phase == "init":
            self.platform.init_start(self.init_type)
        try:
            inc = await self._spawn()
        except Exception as exc:
            event(
                log,
                logging.ERROR,
                "sandbox.spawn_failed",
                "spawning environment %s of %s failed",
                self.env_id,
                self.version.qualified_arn,
                exc_info=True,
                function=self.version.qualified_arn,
                environment=self.env_id,
            )
            return _InitResult(
                False,
                0.0,
                "Runtime.Unknown",
                error_payload("Runtime.Unknown", f"Lambent could not start the environment: {exc}"),
            )
        if inc.proc.restored and self.state is EnvState.STARTING:
            self.event(EnvEvent.RESTORE)
        try:
            outcome = await within(self.clock, inc.api.ready(), max(0.001, budget_s))
        except TimeoutError:
            return _InitResult(False, self._elapsed_ms(began), timed_out=True)
        duration = self._elapsed_ms(began)
        if outcome is None:
            return _InitResult(True, duration)
        if outcome.kind is Kind.INIT_ERROR:
            error_type = outcome.error_type or "Runtime.Unknown"
            return _InitResult(False, duration, error_type, outcome.body)
        status = await inc.proc.wait()
        error_type = exit_error_type(inc)
        message = f"Runtime exited with error: {status.describe()}"
        return _InitResult(False, duration, error_type, error_payload(error_type, message))

    async def _spawn(self) -> Incarnation:
        spec = EnvironmentSpec(
            env_id=self.env_id,
            memory_mb=self.version.memory_mb,
            ephemeral_mb=self.version.ephemeral_mb,
            env=self._variables,
        )
        inc = await spawn(self._template, spec, on_idle=self._parked, on_lines=self.app_lines)
        self._inc = inc
        inc.watcher = asyncio.get_running_loop().create_task(self._watch(inc))
        return inc

    async def _watch(self, inc: Incarnation) -> None:
        status = await inc.proc.wait()
        inc.exit_status = status
        inc.output.drain()
        inc.api.exited()
        if self._inc is inc and self._between():
            # Died between invocations. (During init or an invocation, whoever awaits the
            # Runtime API handles the death.)
            event(
                log,
                logging.WARNING,
                "environment.crashed",
                "environment %s of %s exited between invocations (%s)",
                self.env_id,
                self.version.qualified_arn,
                status.describe(),
                function=self.version.qualified_arn,
                environment=self.env_id,
                detail=status.describe(),
            )
            await self._crashed(inc)

    def _between(self) -> bool:
        return self.state in BETWEEN or (self.state is EnvState.DRAINING and not self._in_flight)

    async def _crashed(self, inc: Incarnation) -> None:
        """Reset, and let the pool know (a draining environment just goes)."""
        if self._inc is not inc:
            return  # already reset: a newer incarnation, or none
        await self.reset()
        self.event(EnvEvent.CRASH)
        if self._is(EnvState.RETIRING):
            self._begin_destroy()
        else:
            self._on_crash(self)

    # -- invoke ----------------------------------------------------------------------------
    async def run(self, req: InvocationRequest) -> InvocationResult:
        self._thaw()
        self.event(EnvEvent.ACQUIRE)
        self._in_flight = True
        self.invocations += 1
        self.collector = LogCollector(req.want_tail)
        self._batch = []
        run = InvocationRun(self, req)
        init_ms, restore_ms = self._pending_init_ms, self._pending_restore_ms
        self._pending_init_ms = self._pending_restore_ms = None
        try:
            if self._inc is None or self._inc.exit_status is not None:
                failed = await run.suppressed_init()
                if failed is not None:
                    return failed
            assert self._inc is not None
            return await run.invoke(self._inc, init_ms, restore_ms)
        finally:
            self._in_flight = False
            self._flush_batch()
            self.collector = None
            self.last_used = self.clock.monotonic()
            self._answered()

    def max_memory_mb(self) -> int:
        """Peak memory for REPORT. The cgroup (or /proc) is read at most every 100 ms: the
        peak only grows, and a busy environment would otherwise pay a file read per
        invocation."""
        if self._inc is None:
            return 0
        now = self.clock.monotonic()
        if self._peak_mb is None or now - self._peak_read_at >= PEAK_REFRESH_S:
            peak = self._inc.proc.memory_peak_bytes()
            self._peak_mb = math.ceil(peak / (1024 * 1024)) if peak else 0
            self._peak_read_at = now
        return self._peak_mb

    def _elapsed_ms(self, since: float) -> float:
        return (self.clock.monotonic() - since) * 1000.0

    # -- between invocations --------------------------------------------------------------
    def _answered(self) -> None:
        """The invocation is over. Unless it reset the environment, the runtime is on its
        way back to /next (RETURNING), or already there if it was quicker than us."""
        if self.state is not EnvState.BUSY and self.state is not EnvState.DRAINING:
            return
        self.event(EnvEvent.ANSWERED)
        inc = self._inc
        if inc is not None and inc.api.state is RtState.DEAD:
            # The process died while the invocation was waiting on something else.
            self._crashing = asyncio.get_running_loop().create_task(self._crashed(inc))
        elif inc is not None and inc.api.state is RtState.READY:
            self._returned(notify=False)  # the pool takes it back when the lease ends

    def _parked(self) -> None:
        """The runtime called /next after an invocation (or re-parked while idle)."""
        if not self._in_flight:
            self._returned(notify=True)

    def _returned(self, *, notify: bool) -> None:
        if self.state is EnvState.RETURNING:
            self.event(EnvEvent.RELEASE)
            self._schedule_freeze()
            if notify:
                self._on_available(self)
        elif self.state is EnvState.DRAINING:
            self.event(EnvEvent.RELEASE)
            self._begin_destroy()

    def _schedule_freeze(self) -> None:
        """Freeze once idle for `freeze_after_s`: a busy function never pays freeze+thaw."""
        if self._freeze_timer is None:
            delay = self._config.freeze_after_s
            self._freeze_timer = self.call_later(delay, self.freeze_idle)

    def freeze_idle(self) -> None:
        self._cancel_freeze()
        if self._inc is not None and self.state is EnvState.IDLE:
            self._inc.proc.freeze()
            self.event(EnvEvent.FREEZE)

    def _thaw(self) -> None:
        self._cancel_freeze()
        if self.state is EnvState.FROZEN:
            assert self._inc is not None  # a frozen environment has its process
            self._inc.proc.thaw()
            self.event(EnvEvent.THAW)

    def _cancel_freeze(self) -> None:
        if self._freeze_timer is not None:
            self._freeze_timer.cancel()
            self._freeze_timer = None

    @property
    def frozen(self) -> bool:
        return self.state is EnvState.FROZEN

    async def reset(self) -> None:
        self._cancel_freeze()
        inc, self._inc = self._inc, None
        if inc is not None:
            await inc.teardown(self._config.shutdown_grace_s, self.clock)

    def retire(self) -> None:
        """Stop taking invocations; a busy environment finishes its invocation first."""
        if self.state in (EnvState.RETIRING, EnvState.DEAD):
            return
        self.event(EnvEvent.RETIRE)
        if self._is(EnvState.RETIRING):
            self._begin_destroy()

    def _begin_destroy(self) -> None:
        if self._destroying is None:
            self._destroying = asyncio.get_running_loop().create_task(self._destroy())

    async def _destroy(self) -> None:
        await self.reset()
        self.event(EnvEvent.DESTROYED)

    async def closed(self) -> None:
        if self._destroying is not None:
            await asyncio.shield(self._destroying)
