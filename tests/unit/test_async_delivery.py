"""Delivery, retries and destinations driven in virtual time (see async_world.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lambent.async_invoke.memory import MemoryQueue
from lambent.async_invoke.service import AsyncInvocations
from lambent.clock import ManualClock
from tests.unit.async_world import (
    PREFIX,
    START,
    World,
    call,
    quiesce,
    records,
    run_until,
    scenario,
    service,
)


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
        world.add("off")
        world.reserved["off"] = 0  # admission throttles it, for good
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


def test_a_missing_destination_is_logged_and_delivery_goes_on(tmp_path: Path) -> None:
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


def test_deliveries_in_flight_never_exceed_max_deliveries(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        fn = world.add("slow")
        fn.gate = asyncio.Event()
        for i in range(7):
            await svc.accept(call("slow", request_id=f"r{i}"))
        await quiesce()
        assert len(fn.runs) == 3
        assert svc.scheduler.in_flight == 3
        fn.gate.set()
        await run_until(clock, lambda: len(fn.runs) == 7, horizon_s=1)
        assert sorted(r.request_id for r in fn.runs) == [f"r{i}" for i in range(7)]

    scenario(tmp_path, body, max_deliveries=3)


def test_stopping_hands_unfinished_deliveries_back(tmp_path: Path) -> None:
    async def main() -> None:
        clock = ManualClock(START)
        world = World(clock)
        queue = MemoryQueue()
        fn = world.add("slow")
        fn.gate = asyncio.Event()  # never opens: the delivery is cut off
        first = service(tmp_path, clock, world, queue)
        await first.start()
        await first.accept(call("slow"))
        await quiesce()
        assert len(fn.runs) == 1
        await first.scheduler.stop(0.0)  # as AsyncInvocations.stop, minus closing the queue
        assert (await queue.stats()).claimed == 0
        assert world.admission.in_use() == 0  # the cut-off delivery gave its lease back
        fn.gate.set()
        second = service(tmp_path, clock, world, queue)
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
        fn = world.add("fn")
        dead = service(tmp_path, clock, world, queue)
        await dead.accept(call("fn"))  # accepted, never started: nothing polls
        await queue.claim(PREFIX + "fn", clock.time(), 10, 960.0)  # then the server died
        alive = service(tmp_path, clock, world, queue)
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
