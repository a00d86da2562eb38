"""A scripted world for async invocation in virtual time (ManualClock, in-memory queue).

The function runs are scripted (the invoke path itself is covered by the integration
tests); everything else is the real code: AsyncInvocations, the scheduler, Delivery, the
policy, records, the function target, and a real `Admission` holding real leases. Time
only moves when the test advances it to the next timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambent.async_invoke.memory import MemoryQueue
from lambent.async_invoke.queue import EventQueue
from lambent.async_invoke.service import AsyncInvocations
from lambent.clock import ManualClock
from lambent.concurrency.admission import Admission, Lease
from lambent.concurrency.throttle import Throttle, ThrottleReason
from lambent.environments.invocation import InvocationRequest, InvocationResult
from lambent.errors import ResourceNotFound
from lambent.functions.model import LATEST, FunctionVersion, Resolved
from lambent.invoke.outcome import (
    FunctionFailed,
    InvokeOutcome,
    NotFound,
    Succeeded,
    Superseded,
    Throttled,
)
from lambent.invoke.recursion import RecursionGuard
from lambent.invoke.service import InvokeCall
from lambent.settings import AsyncSettings, Settings

ACCOUNT = "123456789012"
PREFIX = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
START = 1_700_000_000.0


def version(
    name: str, config: dict[str, Any] | None = None, recursive_loop: str = "Terminate"
) -> FunctionVersion:
    return FunctionVersion(
        account_id=ACCOUNT,
        region="us-east-1",
        function_name=name,
        version=LATEST,
        function_arn=PREFIX + name,
        revision_id="r1",
        runtime="python3.11",
        handler="app.handler",
        role=f"arn:aws:iam::{ACCOUNT}:role/r",
        memory_mb=128,
        timeout_s=3,
        ephemeral_mb=512,
        environment={},
        layers=(),
        code_sha256_hex="0" * 64,
        code_size=1,
        state="Active",
        last_update_status="Successful",
        snapstart=False,
        config=config or {},
        recursive_loop=recursive_loop,
    )


@dataclass
class Run:
    at: float  # seconds since the test started
    request_id: str
    payload: bytes
    trace: str | None = None


@dataclass
class Function:
    """A scripted function: each attempt takes the next step ("ok", "error", "throttle",
    "retired"; "ok" once the script runs out). A run lasts `duration_s` of virtual time."""

    script: list[str]
    duration_s: float = 0.0
    runs: list[Run] = field(default_factory=list)
    gate: asyncio.Event | None = None  # when set, runs wait for it
    running: int = 0
    most_running: int = 0


class World:
    """The catalog, admission and the invoke path, scripted per function name."""

    def __init__(self, clock: ManualClock, account_limit: int = 1000) -> None:
        self.clock = clock
        self.functions: dict[str, Function] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        self.dead_letters: dict[str, str] = {}
        self.reserved: dict[str, int] = {}
        self.recursive_loop: dict[str, str] = {}  # name -> Allow | Terminate
        self.recursion = RecursionGuard()
        self.admission = Admission(
            account_limit,
            lambda account, name: self.reserved.get(name),
            lambda account: sum(self.reserved.values()),
        )

    def add(self, name: str, *script: str, duration_s: float = 0.0) -> Function:
        fn = Function(list(script), duration_s)
        self.functions[name] = fn
        return fn

    def hold(self, name: str) -> Lease:
        """Other traffic (a sync invoke) takes one of the function's leases."""
        return self.admission.take(ACCOUNT, name)

    # Invoker
    async def resolve(
        self, account_id: str, function: str, qualifier: str | None, region: str | None = None
    ) -> Resolved:
        name = function.rsplit(":", 1)[-1]
        if name not in self.functions:
            raise ResourceNotFound(f"Function not found: {PREFIX}{name}")
        dlq = self.dead_letters.get(name)
        config = {"DeadLetterConfig": {"TargetArn": dlq}} if dlq else {}
        return Resolved(version(name, config, self.recursive_loop.get(name, "Terminate")))

    def check_ready(self, version: FunctionVersion) -> None:
        pass

    async def locate(
        self, account_id: str, function: str, qualifier: str | None
    ) -> Resolved | NotFound:
        try:
            return await self.resolve(account_id, function, qualifier)
        except ResourceNotFound as exc:
            return NotFound(exc.message)

    async def attempt(
        self, resolved: Resolved, req: InvocationRequest, lease: Lease | None = None
    ) -> InvokeOutcome:
        name = resolved.version.function_name
        fn = self.functions[name]
        step = fn.script.pop(0) if fn.script else "ok"
        if step == "retired":
            return Superseded()
        if step == "throttle":
            return Throttled(Throttle(ThrottleReason.RESERVED_CONCURRENCY))
        with contextlib.ExitStack() as held:
            if lease is None:
                taken = self.admission.try_take(ACCOUNT, name)
                if isinstance(taken, Throttle):
                    return Throttled(taken)
                held.callback(self.admission.give, taken)
            return await self._run(fn, req, step)
        raise AssertionError("unreachable")

    async def _run(self, fn: Function, req: InvocationRequest, step: str) -> InvokeOutcome:
        fn.runs.append(Run(self.clock.time() - START, req.request_id, req.payload, req.trace_id))
        fn.running += 1
        fn.most_running = max(fn.most_running, fn.running)
        try:
            if fn.duration_s:
                await self.clock.sleep(fn.duration_s)
            if fn.gate is not None:
                await fn.gate.wait()
        finally:
            fn.running -= 1
        if step == "error":
            body = json.dumps({"errorMessage": "boom", "errorType": "ValueError"}).encode()
            return FunctionFailed(InvocationResult(body, LATEST, "Unhandled", "ValueError"))
        return Succeeded(InvocationResult(b'{"ok":true}', LATEST))

    # AsyncCatalog
    async def event_invoke_config(
        self, account: str, name: str, qualifier: str | None
    ) -> dict[str, Any] | None:
        return self.configs.get(name)


async def quiesce() -> None:
    """Let every runnable task run (no time passes: this drains the ready queue)."""
    for _ in range(200):
        await asyncio.sleep(0)


async def run_until(clock: ManualClock, done: Callable[[], bool], horizon_s: float) -> None:
    """Jump from timer to timer until `done()`, failing past `horizon_s` of virtual time."""
    end = clock.monotonic() + horizon_s
    while True:
        await quiesce()
        if done():
            return
        timers = clock.pending()
        assert timers, "nothing scheduled and not done"
        step = min(timers) - clock.monotonic()
        assert clock.monotonic() + step <= end, "not done within the horizon"
        clock.advance(max(step, 0.0))


async def advance_to(clock: ManualClock, at_s: float) -> None:
    """Run every timer up to `at_s` seconds since START, then stop the clock there."""
    while True:
        await quiesce()
        remaining = START + at_s - clock.time()
        timers = [d - clock.monotonic() for d in clock.pending()]
        due = [t for t in timers if t <= remaining]
        if not due:
            clock.advance(max(remaining, 0.0))
            await quiesce()
            return
        clock.advance(max(min(due), 0.0))


Scenario = Callable[[World, AsyncInvocations, ManualClock], Awaitable[None]]


def settings(tmp_path: Path, **changes: Any) -> Settings:
    cfg = AsyncSettings(**{"stop_grace_s": 0.0, **changes})
    return Settings(data_dir=tmp_path, async_=cfg)


def service(
    tmp_path: Path, clock: ManualClock, world: World, queue: EventQueue, **changes: Any
) -> AsyncInvocations:
    return AsyncInvocations(
        settings(tmp_path, **changes), clock, world, world, world.admission, queue
    )


def scenario(tmp_path: Path, body: Scenario, *, account_limit: int = 1000, **changes: Any) -> None:
    """Run `body` against a started AsyncInvocations; `changes` are AsyncSettings fields."""

    async def main() -> None:
        clock = ManualClock(START)
        world = World(clock, account_limit)
        svc = service(tmp_path, clock, world, MemoryQueue(), **changes)
        await svc.start()
        try:
            await body(world, svc, clock)
        finally:
            await svc.stop()
        assert world.admission.in_use() == 0, "a lease leaked"

    asyncio.run(asyncio.wait_for(main(), timeout=60))


def call(name: str, payload: bytes = b'{"n": 1}', request_id: str = "req-1") -> InvokeCall:
    return InvokeCall(ACCOUNT, name, None, payload, request_id)


def records(fn: Function) -> list[dict[str, Any]]:
    return [json.loads(run.payload) for run in fn.runs]
