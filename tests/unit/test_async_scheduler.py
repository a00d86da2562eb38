"""The async scheduler in virtual time (see async_world.py): it claims only what each
function's free concurrency can run, backs off only when other traffic holds that
concurrency, and serves functions in turn.

Times asserted are virtual: exact, whatever the machine's load.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lambent.async_invoke.memory import MemoryQueue
from lambent.async_invoke.queue import DueFunction
from lambent.async_invoke.scheduler import CLUSTER_RECHECK_S
from lambent.async_invoke.service import AsyncInvocations
from lambent.clock import ManualClock
from lambent.concurrency.admission import Admission
from tests.unit.async_world import (
    PREFIX,
    START,
    World,
    advance_to,
    call,
    quiesce,
    run_until,
    scenario,
    service,
)


def test_a_restarted_backlog_drains_at_the_reserved_concurrency_without_throttling(
    tmp_path: Path,
) -> None:
    """Issue 8: reserved concurrency 2, 300 events of 50 ms, all claimed by a server that
    was then killed. The restarted server runs two at a time, back to back: 7.5 s."""

    async def main() -> None:
        clock = ManualClock(START)
        world = World(clock)
        fn = world.add("r2", duration_s=0.05)
        world.reserved["r2"] = 2
        queue = MemoryQueue()
        dead = service(tmp_path, clock, world, queue)
        for i in range(300):
            await dead.accept(call("r2", request_id=f"e{i}"))
        await queue.claim(PREFIX + "r2", clock.time(), 300, 960.0)  # then the server died
        alive = service(tmp_path, clock, world, queue)
        await alive.start()
        try:
            await run_until(clock, lambda: alive.scheduler.stats.attempts == 300, horizon_s=60)
            assert clock.time() - START == pytest.approx(300 / 2 * 0.05)  # float sums
            assert fn.most_running == 2
            assert {r.request_id for r in fn.runs} == {f"e{i}" for i in range(300)}
            counters = await alive.snapshot()
            assert counters["throttled"] == 0
            assert counters["throttled_by_own_deliveries"] == 0
            assert counters["queued"] + counters["claimed"] == 0
        finally:
            await alive.stop()
        assert world.admission.in_use() == 0

    asyncio.run(asyncio.wait_for(main(), timeout=60))


def test_large_reserved_concurrency_is_not_capped_by_the_scheduler(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        fn = world.add("wide", duration_s=1.0)
        world.reserved["wide"] = 50
        for i in range(500):
            await svc.accept(call("wide", request_id=f"e{i}"))
        await run_until(clock, lambda: len(fn.runs) == 500, horizon_s=60)
        assert fn.most_running == 50
        assert [r.at for r in fn.runs[::50]] == [float(s) for s in range(10)]

    scenario(tmp_path, body)


def test_sync_traffic_holding_part_of_the_reservation_costs_no_backoff(tmp_path: Path) -> None:
    """Reserved 2, a sync invoke holds one lease: async runs one at a time, never
    throttled; when the sync invoke gives its lease back, the second slot is used at once
    (the release wakes the scheduler: no timer, no poll)."""

    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        fn = world.add("shared", duration_s=1.0)
        world.reserved["shared"] = 2
        sync = world.hold("shared")
        for i in range(10):
            await svc.accept(call("shared", request_id=f"e{i}"))
        await advance_to(clock, 4.5)
        assert [r.at for r in fn.runs] == [0.0, 1.0, 2.0, 3.0, 4.0]
        world.admission.give(sync)
        await quiesce()  # no time passes
        assert [r.at for r in fn.runs][5:] == [4.5]
        await run_until(clock, lambda: len(fn.runs) == 10, horizon_s=10)
        assert [r.at for r in fn.runs][5:] == [4.5, 5.0, 5.5, 6.0, 6.5]
        counters = await svc.snapshot()
        assert counters["throttled"] == 0

    scenario(tmp_path, body)


def test_sync_traffic_holding_all_of_the_reservation_throttles_with_backoff(
    tmp_path: Path,
) -> None:
    """AWS's behaviour still applies when other traffic holds the concurrency: each event
    is throttled and retried 1 s, then 2 s later (backoff doubling to 5 min)."""

    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        fn = world.add("held", duration_s=0.1)
        world.reserved["held"] = 1
        sync = world.hold("held")
        await svc.accept(call("held", request_id="a"))
        await svc.accept(call("held", request_id="b"))
        await advance_to(clock, 2.5)
        assert fn.runs == []
        assert (await svc.snapshot())["throttled"] == 4  # both, at 0 s and at 1 s
        world.admission.give(sync)
        await quiesce()
        assert fn.runs == []  # backed off: due again at 1 + 2 = 3 s, not at the release
        await run_until(clock, lambda: len(fn.runs) == 2, horizon_s=10)
        # At 3 s only one may run: "b" waits for "a"'s lease, it is not throttled again.
        assert [(r.request_id, r.at) for r in fn.runs] == [("a", 3.0), ("b", pytest.approx(3.1))]
        counters = await svc.snapshot()
        assert counters["throttled"] == 4
        assert counters["throttled_by_own_deliveries"] == 0

    scenario(tmp_path, body)


def test_a_backlog_on_one_function_does_not_delay_another(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        busy = world.add("busy", duration_s=1.0)
        world.reserved["busy"] = 4
        other = world.add("other", duration_s=1.0)
        for i in range(100):
            await svc.accept(call("busy", request_id=f"b{i}"))
        await advance_to(clock, 0.5)
        await svc.accept(call("other", request_id="o"))
        await quiesce()
        assert [(r.request_id, r.at) for r in other.runs] == [("o", 0.5)]
        assert len(busy.runs) == 4

    scenario(tmp_path, body)


def test_functions_sharing_the_unreserved_pool_take_turns(tmp_path: Path) -> None:
    """The pool is full of A's backlog when B's event arrives: B gets the first lease
    given back, not the last."""

    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        a = world.add("a", duration_s=1.0)
        b = world.add("b", duration_s=1.0)
        for i in range(50):
            await svc.accept(call("a", request_id=f"a{i}"))
        await advance_to(clock, 0.5)
        assert len(a.runs) == 10  # the account's whole pool
        await svc.accept(call("b", request_id="b0"))
        await svc.accept(call("b", request_id="b1"))
        await advance_to(clock, 1.0)
        # At 1 s ten leases come back: B's two events get two of them, A the rest.
        assert sorted(r.at for r in b.runs) == [1.0, 1.0]
        assert [r.at for r in a.runs].count(1.0) == 8
        counters = await svc.snapshot()
        assert counters["throttled"] == 0  # B waited for A's leases: no backoff

    scenario(tmp_path, body, account_limit=10)


def test_max_deliveries_is_shared_in_turns(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        a = world.add("a", duration_s=1.0)
        b = world.add("b", duration_s=1.0)
        for i in range(20):
            await svc.accept(call("a", request_id=f"a{i}"))
        await quiesce()
        await svc.accept(call("b", request_id="b0"))
        await run_until(clock, lambda: len(b.runs) == 1, horizon_s=5)
        assert b.runs[0].at == 1.0  # the first delivery slot that came free
        assert [r.at for r in a.runs] == [0.0, 0.0, 1.0]

    scenario(tmp_path, body, max_deliveries=2)


def test_a_steady_drain_asks_the_queue_what_is_due_once(tmp_path: Path) -> None:
    """Between acceptances the scheduler subtracts its own claims from the counts it has:
    each start costs one claim, not a fresh look at the whole queue."""

    class CountingQueue(MemoryQueue):
        asked = 0

        async def due_functions(self, now: float, cap: int) -> list[DueFunction]:
            CountingQueue.asked += 1
            return await super().due_functions(now, cap)

    async def main() -> None:
        clock = ManualClock(START)
        world = World(clock)
        fn = world.add("steady", duration_s=0.1)
        world.reserved["steady"] = 2
        queue = CountingQueue()
        svc = service(tmp_path, clock, world, queue)
        for i in range(100):
            await svc.accept(call("steady", request_id=f"e{i}"))
        await svc.start()
        try:
            await run_until(clock, lambda: svc.scheduler.stats.attempts == 100, horizon_s=60)
        finally:
            await svc.stop()
        assert len(fn.runs) == 100
        assert CountingQueue.asked == 1

    asyncio.run(asyncio.wait_for(main(), timeout=60))


class ClusteredAdmission(Admission):
    """Admission as a node of a cluster sees it: a throttle may be other nodes' doing."""

    @property
    def clustered(self) -> bool:
        return True


class SharedQueue(MemoryQueue):
    """A queue other nodes share: `elsewhere` says whether their pollers hold claims."""

    def __init__(self) -> None:
        super().__init__()
        self.elsewhere = False

    async def claimed_elsewhere(
        self, account_id: str, function_arn: str | None, now: float
    ) -> bool:
        return self.elsewhere


def clustered_world(clock: ManualClock) -> World:
    world = World(clock)
    world.admission = ClusteredAdmission(
        1000, lambda account, name: world.reserved.get(name), lambda account: 1
    )
    return world


def test_in_cluster_mode_events_wait_unthrottled_while_other_nodes_pollers_hold_the_room(
    tmp_path: Path,
) -> None:
    """Reserved 1, held by another node's poller: the events wait, looked at again every
    CLUSTER_RECHECK_S, and run once the lease is back; nothing is throttled."""

    async def main() -> None:
        clock = ManualClock(START)
        world = clustered_world(clock)
        fn = world.add("held", duration_s=0.1)
        world.reserved["held"] = 1
        queue = SharedQueue()
        svc = service(tmp_path, clock, world, queue)
        await svc.start()
        try:
            elsewhere = world.hold("held")
            queue.elsewhere = True
            await svc.accept(call("held", request_id="a"))
            await svc.accept(call("held", request_id="b"))
            await advance_to(clock, 2.7)
            assert fn.runs == []
            assert (await svc.snapshot())["throttled"] == 0
            world.admission.give(elsewhere)
            queue.elsewhere = False
            await run_until(clock, lambda: len(fn.runs) == 2, horizon_s=10)
            assert CLUSTER_RECHECK_S == 0.5
            assert [(r.request_id, r.at) for r in fn.runs] == [
                ("a", 3.0),
                ("b", pytest.approx(3.1)),
            ]
            assert (await svc.snapshot())["throttled"] == 0
        finally:
            await svc.stop()
        assert world.admission.in_use() == 0

    asyncio.run(asyncio.wait_for(main(), timeout=60))


def test_in_cluster_mode_other_traffic_holding_the_room_still_throttles(tmp_path: Path) -> None:
    """No other node's poller holds it (a sync invoke does): AWS's throttle and backoff."""

    async def main() -> None:
        clock = ManualClock(START)
        world = clustered_world(clock)
        fn = world.add("held", duration_s=0.1)
        world.reserved["held"] = 1
        svc = service(tmp_path, clock, world, SharedQueue())
        await svc.start()
        try:
            sync = world.hold("held")
            await svc.accept(call("held", request_id="a"))
            await advance_to(clock, 0.5)
            assert fn.runs == []
            assert (await svc.snapshot())["throttled"] == 1
            world.admission.give(sync)
        finally:
            await svc.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=60))


def test_in_cluster_mode_reserved_concurrency_zero_still_fails_at_once(tmp_path: Path) -> None:
    async def main() -> None:
        clock = ManualClock(START)
        world = World(clock)
        world.admission = ClusteredAdmission(
            1000, lambda account, name: world.reserved.get(name), lambda account: 0
        )
        world.add("zero")
        world.reserved["zero"] = 0
        svc = service(tmp_path, clock, world, MemoryQueue())
        await svc.start()
        try:
            await svc.accept(call("zero", request_id="z"))
            await advance_to(clock, 0.1)
            assert (await svc.snapshot())["throttled"] >= 1
        finally:
            await svc.stop()

    asyncio.run(asyncio.wait_for(main(), timeout=60))
