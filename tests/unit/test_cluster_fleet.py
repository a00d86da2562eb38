"""A frontend's fleet: places over the live dedicated workers, spreads a burst between two
snapshots by counting its own placements (and gives them back when they end), avoids a
worker that failed until it has had time to lapse."""

from __future__ import annotations

from lambent.clock import ManualClock
from lambent.cluster.fleet import WorkerFleet
from lambent.cluster.membership import Capacity, LoadSnapshot, NodeInfo
from lambent.settings import NodeRole
from tests.unit.test_cluster_remote import VERSION


def node(node_id: str, role: NodeRole = "worker", idle: dict[str, int] | None = None) -> NodeInfo:
    return NodeInfo(
        node_id=node_id,
        role=role,
        address=f"{node_id}:1",
        capacity=Capacity(memory_mb=1024, cpus=2),
        load=LoadSnapshot(idle=idle or {}, memory_used_mb=128 * sum((idle or {}).values())),
        applied_seq=0,
        lease_left_s=4.0,
    )


class Members:
    def __init__(self, *nodes: NodeInfo) -> None:
        self.nodes = list(nodes)

    async def live_nodes(self, role: NodeRole | None = None) -> list[NodeInfo]:
        return list(self.nodes)


async def fleet_of(*nodes: NodeInfo) -> tuple[WorkerFleet, ManualClock]:
    clock = ManualClock()
    fleet = WorkerFleet(Members(*nodes), clock, refresh_s=1.0, avoid_s=8.0)
    await fleet.refresh()
    return fleet, clock


async def test_a_burst_spreads_and_ended_invocations_come_back_warm() -> None:
    fleet, _ = await fleet_of(node("a"), node("b"), node("all-node", role="all"))
    first = fleet.choose(VERSION, ())
    second = fleet.choose(VERSION, ())
    assert first is not None and second is not None
    assert {first.address, second.address} == {"a:1", "b:1"}  # never the `all` node
    first.release()  # it left an idle environment of the version behind
    again = fleet.choose(VERSION, ())
    assert again is not None and again.address == first.address  # warm affinity
    for _ in range(100):  # sequential invocations never exhaust a worker
        ticket = fleet.choose(VERSION, ())
        assert ticket is not None
        ticket.release()


async def test_warm_affinity_from_the_snapshot_and_exclusions() -> None:
    fleet, _ = await fleet_of(node("a"), node("b", idle={VERSION.key: 1}))
    ticket = fleet.choose(VERSION, ())
    assert ticket is not None and ticket.address == "b:1"
    other = fleet.choose(VERSION, ["a:1", "b:1"])
    assert other is None


async def test_a_failed_worker_is_avoided_until_it_could_have_lapsed() -> None:
    fleet, clock = await fleet_of(node("a"), node("b", idle={VERSION.key: 3}))
    fleet.failed("b:1")
    ticket = fleet.choose(VERSION, ())
    assert ticket is not None and ticket.address == "a:1"
    clock.advance(8.0)
    ticket = fleet.choose(VERSION, ())
    assert ticket is not None and ticket.address == "b:1"


async def test_no_worker_is_none() -> None:
    fleet, _ = await fleet_of()
    assert fleet.choose(VERSION, ()) is None
