"""The change feed on a real PostgreSQL: two nodes on one schema, each with its feed and
membership as App wires them, and a catalog that records what it is told.

Leases are one second; every wait is on a condition, bounded only against hangs."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import psycopg
import pytest

from tests.cluster_support import BEATING, HANG_S, SILENT, Node, live_ids, until
from tests.pg import BASE_URL

pytestmark = pytest.mark.services


@pytest.fixture
async def a(pg_url: str) -> AsyncIterator[Node]:
    node = await Node(pg_url, "a", BEATING).start()
    yield node
    await node.close()


async def test_a_write_returns_once_the_other_node_has_applied_it(a: Node, pg_url: str) -> None:
    b = await Node(pg_url, "b", BEATING).start()
    try:
        await asyncio.wait_for(a.feed.publish("111", "fn", "$LATEST", published=False), HANG_S)
        # Applied by b before the write returned; never told back to the writer.
        assert b.catalog.applied == [("111", "fn", "$LATEST", False)]
        assert a.catalog.applied == []
        await asyncio.wait_for(b.feed.publish("111", "fn", "3", published=True), HANG_S)
        await asyncio.wait_for(b.feed.publish("222", "other", None, published=False), HANG_S)
        assert a.catalog.applied == [("111", "fn", "3", True), ("222", "other", None, False)]
        # Each records the highest change it applied (its own included).
        await until(lambda: _both_at(a, b, 3))
    finally:
        await b.close()


async def _both_at(a: Node, b: Node, seq: int) -> bool:
    return await a.applied_seq() == seq and await b.applied_seq() == seq


async def test_a_write_does_not_wait_for_a_node_whose_lease_lapsed(a: Node, pg_url: str) -> None:
    b = await Node(pg_url, "b", SILENT).start()  # joined, then never renews
    b.catalog.gate = asyncio.Event()  # and never applies
    try:
        await asyncio.wait_for(a.feed.publish("111", "fn", "$LATEST", published=False), HANG_S)
        assert await live_ids(a.member) == ["a"]
        assert not b.member.is_live()  # the node left out knows it is out
    finally:
        b.catalog.gate.set()
        await b.close()


async def test_a_live_node_that_does_not_apply_is_fenced_and_knows_it(a: Node, pg_url: str) -> None:
    b = await Node(pg_url, "b", BEATING).start()  # renews, but holds every change
    b.catalog.gate = asyncio.Event()
    try:
        await asyncio.wait_for(a.feed.publish("111", "fn", "$LATEST", published=False), HANG_S)
        # When the write returns, b has not applied it: it must not be serving, unless it
        # has since joined again with an empty cache.
        assert not b.member.is_live() or b.catalog.resets >= 2
        # It finds itself fenced, forgets everything and joins again.
        await until(lambda: b.catalog.resets >= 2)
        await until(b.member.is_live)
        await until(lambda: _has(a, "b"))
    finally:
        b.catalog.gate.set()
        await b.close()


async def _has(a: Node, node: str) -> bool:
    return node in await live_ids(a.member)


async def test_a_terminated_listen_connection_comes_back_and_forgets_everything(
    a: Node, pg_url: str
) -> None:
    b = await Node(pg_url, f"b-{secrets.token_hex(4)}", BEATING).start()  # its own name
    try:
        resets = b.catalog.resets
        with psycopg.connect(BASE_URL, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (f"lambent-changes-{b.node_id}",),
            ).fetchall()
        assert killed == [(True,)]
        await until(lambda: b.catalog.resets > resets and b.feed.connected())
        await asyncio.wait_for(a.feed.publish("111", "fn", "$LATEST", published=False), HANG_S)
        assert b.catalog.applied == [("111", "fn", "$LATEST", False)]
    finally:
        await b.close()


async def test_a_node_that_left_is_not_waited_for(a: Node, pg_url: str) -> None:
    b = await Node(pg_url, "b", BEATING).start()
    b.catalog.gate = asyncio.Event()
    await b.close()
    await asyncio.wait_for(a.feed.publish("111", "fn", "$LATEST", published=False), HANG_S)
    assert b.catalog.applied == []
