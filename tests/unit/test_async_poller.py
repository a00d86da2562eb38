"""The poller and delivery driven in virtual time (ManualClock, in-memory queue).

The function runs are scripted (the sync path itself is covered by the integration tests);
everything else is the real code: AsyncInvocations, Poller, Delivery, the policy, records,
the function target. Time only moves when the test advances it to the next timer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambent.async_invoke.memory import MemoryQueue
from lambent.async_invoke.service import AsyncInvocations
from lambent.clock import ManualClock
from lambent.environments.invocation import InvocationRequest, InvocationResult
from lambent.environments.pool import PoolRetired
from lambent.errors import ResourceNotFound, TooManyRequests
from lambent.functions.model import LATEST, FunctionVersion, Resolved
from lambent.invoke.service import InvokeCall
from lambent.settings import AsyncSettings, Settings

ACCOUNT = "123456789012"
PREFIX = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
START = 1_700_000_000.0


def version(name: str, config: dict[str, Any] | None = None) -> FunctionVersion:
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
    )


@dataclass
class Run:
    at: float  # seconds since the test started
    request_id: str
    payload: bytes


@dataclass
class Function:
    """A scripted function: each attempt takes the next step ("ok", "error", "throttle")."""

    script: list[str]
    runs: list[Run] = field(default_factory=list)
    gate: asyncio.Event | None = None  # when set, runs wait for it


class World:
    """The catalog and the sync path, scripted per function name."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.functions: dict[str, Function] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        self.dead_letters: dict[str, str] = {}
        self.reserved: dict[str, int] = {}

    def add(self, name: str, *script: str) -> Function:
        fn = Function(list(script))
        self.functions[name] = fn
        return fn

    # Invoker
    def resolve(
        self, account_id: str, function: str, qualifier: str | None, region: str | None = None
    ) -> Resolved:
        name = function.rsplit(":", 1)[-1]
        if name not in self.functions:
            raise ResourceNotFound(f"Function not found: {PREFIX}{name}")
        dlq = self.dead_letters.get(name)
        config = {"DeadLetterConfig": {"TargetArn": dlq}} if dlq else {}
        return Resolved(version(name, config))

    def route(self, resolved: Resolved) -> FunctionVersion:
        return resolved.version

    def check_ready(self, version: FunctionVersion) -> None:
        pass

    async def run(
        self, version: FunctionVersion, resolved: Resolved, req: InvocationRequest
    ) -> InvocationResult:
        fn = self.functions[version.function_name]
        step = fn.script.pop(0) if fn.script else "ok"
        if step == "retired":
            raise PoolRetired(version.key)
        if step == "throttle":
            raise TooManyRequests(
                "Rate Exceeded.", reason="ReservedFunctionConcurrentInvocationLimitExceeded"
            )
        fn.runs.append(Run(self.clock.time() - START, req.request_id, req.payload))
        if fn.gate is not None:
            await fn.gate.wait()
        if step == "error":
            body = json.dumps({"errorMessage": "boom", "errorType": "ValueError"}).encode()
            return InvocationResult(body, LATEST, "Unhandled", "ValueError")
        return InvocationResult(b'{"ok":true}', LATEST)

    # AsyncCatalog
    def event_invoke_config(
        self, account: str, name: str, qualifier: str | None
    ) -> dict[str, Any] | None:
        return self.configs.get(name)

    def reserved_concurrency(self, account: str, name: str) -> int | None:
        return self.reserved.get(name)


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
        timers = [deadline for deadline, _, fut in clock._sleepers if not fut.done()]
        assert timers, "nothing scheduled and not done"
        step = min(timers) - clock.monotonic()
        assert clock.monotonic() + step <= end, "not done within the horizon"
        clock.advance(max(step, 0.0))


Scenario = Callable[[World, AsyncInvocations, ManualClock], Awaitable[None]]


def scenario(
    tmp_path: Path, body: Scenario, *, pollers: int = 4, retry_base_s: float = 60.0
) -> None:
    async def main() -> None:
        clock = ManualClock(START)
        world = World(clock)
        settings = Settings(
            data_dir=tmp_path,
            async_=AsyncSettings(retry_base_s=retry_base_s, pollers=pollers, stop_grace_s=0.0),
        )
        service = AsyncInvocations(settings, clock, world, world, MemoryQueue())
        await service.start()
        try:
            await body(world, service, clock)
        finally:
            await service.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=30))


def call(name: str, payload: bytes = b'{"n": 1}', request_id: str = "req-1") -> InvokeCall:
    return InvokeCall(ACCOUNT, name, None, payload, request_id)


def records(fn: Function) -> list[dict[str, Any]]:
    return [json.loads(run.payload) for run in fn.runs]


def test_failing_function_is_tried_three_times_then_sent_on_failure(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        fail = world.add("fail", "error", "error", "error")
        sink = world.add("sink")
        world.configs["fail"] = {
            "DestinationConfig": {"OnFailure": {"Destination": PREFIX + "sink"}}
        }
        await svc.accept(call("fail"))
        await run_until(clock, lambda: len(sink.runs) == 1, horizon_s=600)
        assert [r.at for r in fail.runs] == [0.0, 60.0, 180.0]
        assert {r.request_id for r in fail.runs} == {"req-1"}
        (record,) = records(sink)
        assert record["requestContext"] == {
            "requestId": "req-1",
            "functionArn": PREFIX + "fail:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        }
        assert record["requestPayload"] == {"n": 1}
        assert record["responseContext"]["functionError"] == "Unhandled"
        assert sink.runs[0].request_id != "req-1"  # the destination gets its own invocation
        stats = await svc.stats()
        assert (stats.queued, stats.claimed) == (0, 0)

    scenario(tmp_path, body)


def test_throttles_are_retried_with_backoff_then_success_goes_on_success(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        fn = world.add("busy", "throttle", "throttle", "throttle", "ok")
        sink = world.add("sink")
        world.configs["busy"] = {
            "DestinationConfig": {"OnSuccess": {"Destination": PREFIX + "sink"}}
        }
        await svc.accept(call("busy"))
        await run_until(clock, lambda: len(sink.runs) == 1, horizon_s=60)
        assert [r.at for r in fn.runs] == [7.0]  # throttled at 0, 1, 3; ran at 1+2+4 = 7
        (record,) = records(sink)
        assert record["requestContext"]["condition"] == "Success"
        assert record["requestContext"]["approximateInvokeCount"] == 1
        assert record["responsePayload"] == {"ok": True}
        assert "functionError" not in record["responseContext"]

    scenario(tmp_path, body)


def test_zero_reserved_concurrency_goes_straight_to_failure_and_dead_letter(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        world.add("off", "throttle")
        world.reserved["off"] = 0
        sink = world.add("sink")
        dlq = world.add("dlq")
        world.configs["off"] = {
            "DestinationConfig": {"OnFailure": {"Destination": PREFIX + "sink"}}
        }
        world.dead_letters["off"] = PREFIX + "dlq"
        await svc.accept(call("off", b'{"original": true}'))
        await run_until(clock, lambda: len(sink.runs) == 1 and len(dlq.runs) == 1, horizon_s=5)
        assert clock.time() == START  # no retries, no waiting
        (record,) = records(sink)
        assert record["requestContext"]["condition"] == "ZeroReservedConcurrency"
        assert record["requestContext"]["approximateInvokeCount"] == 0
        assert "responseContext" not in record
        assert dlq.runs[0].payload == b'{"original": true}'  # the event itself

    scenario(tmp_path, body)


def test_event_age_limit_ends_throttling(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        world.add("busy", *["throttle"] * 100)
        sink = world.add("sink")
        world.configs["busy"] = {
            "MaximumEventAgeInSeconds": 60,
            "DestinationConfig": {"OnFailure": {"Destination": PREFIX + "sink"}},
        }
        await svc.accept(call("busy"))
        await run_until(clock, lambda: len(sink.runs) == 1, horizon_s=120)
        assert records(sink)[0]["requestContext"]["condition"] == "EventAgeExceeded"
        assert clock.time() - START == 31.0  # the retry due at 63 s would be too late

    scenario(tmp_path, body)


def test_a_missing_destination_is_logged_and_the_poller_goes_on(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        world.add("fail", "error")
        ok = world.add("ok")
        world.configs["fail"] = {
            "MaximumRetryAttempts": 0,
            "DestinationConfig": {"OnFailure": {"Destination": PREFIX + "deleted"}},
        }
        await svc.accept(call("fail", request_id="a"))
        await svc.accept(call("ok", request_id="b"))
        await run_until(clock, lambda: len(ok.runs) == 1, horizon_s=5)
        await quiesce()
        stats = await svc.stats()
        assert (stats.queued, stats.claimed) == (0, 0)

    scenario(tmp_path, body)


def test_deliveries_in_flight_never_exceed_the_slots(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        fn = world.add("slow")
        fn.gate = asyncio.Event()
        for i in range(7):
            await svc.accept(call("slow", request_id=f"r{i}"))
        await quiesce()
        assert len(fn.runs) == 3
        assert svc.poller.in_flight == 3
        fn.gate.set()
        await run_until(clock, lambda: len(fn.runs) == 7, horizon_s=1)
        assert sorted(r.request_id for r in fn.runs) == [f"r{i}" for i in range(7)]

    scenario(tmp_path, body, pollers=3)


def test_stopping_hands_unfinished_deliveries_back(tmp_path: Path) -> None:
    async def main() -> None:
        clock = ManualClock(START)
        world = World(clock)
        queue = MemoryQueue()
        settings = Settings(data_dir=tmp_path, async_=AsyncSettings(stop_grace_s=0.0))
        fn = world.add("slow")
        fn.gate = asyncio.Event()  # never opens: the delivery is cut off
        first = AsyncInvocations(settings, clock, world, world, queue)
        await first.start()
        await first.accept(call("slow"))
        await quiesce()
        assert len(fn.runs) == 1
        await first.poller.stop(0.0)  # as AsyncInvocations.stop, minus closing the queue
        assert (await queue.stats()).claimed == 0
        fn.gate.set()
        second = AsyncInvocations(settings, clock, world, world, queue)
        await second.start()
        await run_until(clock, lambda: len(fn.runs) == 2, horizon_s=1)
        await second.stop()
        assert [r.request_id for r in fn.runs] == ["req-1", "req-1"]

    asyncio.run(asyncio.wait_for(main(), timeout=30))


def test_recovery_at_start_requeues_claims_left_by_a_dead_server(tmp_path: Path) -> None:
    async def main() -> None:
        clock = ManualClock(START)
        world = World(clock)
        queue = MemoryQueue()
        settings = Settings(data_dir=tmp_path)
        fn = world.add("fn")
        dead = AsyncInvocations(settings, clock, world, world, queue)
        await dead.accept(call("fn"))  # accepted, never started: nothing polls
        await queue.claim(clock.time(), 10, 960.0)  # claimed by a server that then died
        alive = AsyncInvocations(settings, clock, world, world, queue)
        await alive.start()
        await run_until(clock, lambda: len(fn.runs) == 1, horizon_s=1)  # long before the lease
        await alive.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=30))


def test_a_pool_retired_by_an_update_is_retried_at_once(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        fn = world.add("updated", "retired", "retired", "ok")
        await svc.accept(call("updated"))
        await run_until(clock, lambda: len(fn.runs) == 1, horizon_s=1)
        assert fn.runs[0].at == 0.0  # no backoff: the new version ran straight away

    scenario(tmp_path, body)
