"""Membership on a real PostgreSQL: nodes on one schema see each other by their leases.

Leases are one second long; a lapse is awaited as a condition with a generous bound."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lambent.cluster.membership import LoadSnapshot, Membership
from tests.cluster_support import BEATING, SILENT, live_ids, pool_for, spec, until

pytestmark = pytest.mark.services


@pytest.fixture
async def a(pg_url: str) -> AsyncIterator[Membership]:
    pool = await pool_for(pg_url, "node-a")
    member = Membership(pool, spec("a"), BEATING)
    await member.start()
    yield member
    await member.stop()
    await pool.close()


class Joins:
    """An `on_join` hook that counts the (re)joins and answers a sequence number."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self) -> int:
        self.count += 1
        return 0


async def test_nodes_see_each_other_and_roles_are_played(a: Membership, pg_url: str) -> None:
    pool = await pool_for(pg_url, "others")
    front = Membership(pool, spec("f", "frontend"), BEATING)
    worker = Membership(pool, spec("w", "worker"), BEATING)
    await front.start()
    await worker.start()
    try:
        assert a.is_live() and front.is_live() and worker.is_live()
        assert await live_ids(a) == ["a", "f", "w"]
        assert await live_ids(worker, "frontend") == ["a", "f"]  # `all` plays every role
        assert await live_ids(front, "worker") == ["a", "w"]
        [info] = [n for n in await a.live_nodes() if n.node_id == "w"]
        assert (info.role, info.address, info.capacity.memory_mb) == (
            "worker",
            "127.0.0.1:9701",
            4096,
        )
        assert 0 < info.lease_left_s <= BEATING.lease_s
    finally:
        await worker.stop()
        await front.stop()
        await pool.close()
    assert await live_ids(a) == ["a"]  # a clean stop leaves at once


async def test_a_node_whose_heartbeats_stop_is_dead_to_others_and_knows_it(
    a: Membership, pg_url: str
) -> None:
    pool = await pool_for(pg_url, "node-b")
    joins = Joins()
    b = Membership(pool, spec("b"), SILENT, on_join=joins)
    await b.start()
    try:
        assert await live_ids(a) == ["a", "b"] and joins.count == 1
        await until(lambda: _without(a, "b"))
        # Its own deadline is never later than the one the database holds.
        assert not b.is_live()
        assert await b.heartbeat()  # finds its lease lapsed: joins again
        assert joins.count == 2 and b.is_live()
        assert await live_ids(a) == ["a", "b"]
    finally:
        await b.stop()
        await pool.close()


async def _without(member: Membership, node: str) -> bool:
    return node not in await live_ids(member)


async def test_a_node_cut_off_from_the_database_stops_believing_it_is_live(
    a: Membership, pg_url: str
) -> None:
    pool = await pool_for(pg_url, "node-b")
    b = Membership(pool, spec("b"), BEATING)
    await b.start()
    await pool.close()  # every heartbeat fails from now on
    try:
        await until(lambda: not b.is_live())
        await until(lambda: _without(a, "b"))
    finally:
        await b.stop()  # cannot delete its row: it lapsed already


async def test_a_fenced_node_cannot_renew_and_joins_again(a: Membership, pg_url: str) -> None:
    pool = await pool_for(pg_url, "node-b")
    joins = Joins()
    b = Membership(pool, spec("b"), SILENT, on_join=joins)
    await b.start()
    try:
        async with pool.connection() as conn:
            await conn.execute("UPDATE cluster_nodes SET fenced = true WHERE node_id = 'b'")
        assert await live_ids(a) == ["a"]
        assert await b.heartbeat()
        assert joins.count == 2 and await live_ids(a) == ["a", "b"]
    finally:
        await b.stop()
        await pool.close()


async def test_a_deaf_node_does_not_renew(a: Membership, pg_url: str) -> None:
    """`healthy` false (its change feed is not listening): it lets its lease lapse."""
    pool = await pool_for(pg_url, "node-b")
    b = Membership(pool, spec("b"), BEATING, healthy=lambda: False)
    await b.start()
    try:
        await until(lambda: _without(a, "b"))
        assert not b.is_live()
    finally:
        await b.stop()
        await pool.close()


async def test_the_load_rides_on_the_next_heartbeat(a: Membership) -> None:
    a.publish_load(LoadSnapshot(busy=2, memory_used_mb=300, idle={"k1": 3}, accepts_new=False))
    assert await a.heartbeat()
    [node] = await a.live_nodes("worker")
    assert node.load == LoadSnapshot(busy=2, memory_used_mb=300, idle={"k1": 3}, accepts_new=False)
    view = node.worker_view()
    assert (view.worker_id, view.alive, view.memory_mb, view.memory_used_mb) == (
        "a",
        True,
        4096,
        300,
    )
    assert (view.busy, dict(view.idle_by_version), view.accepts_new) == (2, {"k1": 3}, False)


async def test_the_load_source_is_asked_at_each_heartbeat(pg_url: str) -> None:
    pool = await pool_for(pg_url, "node-w")
    loads = iter(LoadSnapshot(busy=n) for n in range(1, 1000))
    worker = Membership(pool, spec("w", "worker"), BEATING, load=lambda: next(loads))
    await worker.start()
    try:
        # Each heartbeat reports a new load; the view read after it shows it, no I/O asked.
        await until(lambda: _busy(worker) >= 3)
        assert [n.node_id for n in worker.known_nodes("frontend")] == []
    finally:
        await worker.stop()
        await pool.close()


def _busy(member: Membership) -> int:
    nodes = member.known_nodes("worker")
    return nodes[0].load.busy if nodes and nodes[0].load else 0


async def test_the_view_of_live_nodes_is_empty_once_older_than_a_lease(pg_url: str) -> None:
    pool = await pool_for(pg_url, "node-s")
    member = Membership(pool, spec("s"), SILENT)
    await member.start()
    try:
        assert [n.node_id for n in member.known_nodes()] == ["s"]  # read at start
        await until(lambda: member.known_nodes() == [])  # no heartbeat since
    finally:
        await member.stop()
        await pool.close()
