"""The Store contract across nodes: two stores open on the same data at once (two server
processes on one SQLite file, two cluster nodes on one PostgreSQL schema) still take turns
as writers, so nothing one node does is lost or half-seen by the other."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lambent.store.interface import Store
from tests.contract.stores import DURABLE, Backend, run_with_two

pytestmark = pytest.mark.parametrize("backend", DURABLE, indirect=True)

A = "111111111111"


class Boom(Exception):
    pass


def test_read_modify_writes_on_two_nodes_lose_no_update(backend: Backend, tmp_path: Path) -> None:
    per_node = 10

    async def body(one: Store, two: Store) -> None:
        await one.put("counter", A, "n", {"n": 0})

        async def increment(store: Store) -> None:
            async with store.transaction():
                doc = await store.get("counter", A, "n")
                assert doc is not None
                await asyncio.sleep(0)  # let the other node try to get in here
                await store.put("counter", A, "n", {"n": doc["n"] + 1})

        await asyncio.gather(*(increment(s) for s in (one, two) for _ in range(per_node)))
        assert await one.get("counter", A, "n") == {"n": 2 * per_node}
        assert await two.get("counter", A, "n") == {"n": 2 * per_node}

    run_with_two(backend, tmp_path, body)


def test_a_write_on_another_node_waits_for_a_transaction(backend: Backend, tmp_path: Path) -> None:
    """It lands after the transaction ends (here: rolled back), never inside it, and the
    other node reads only committed data meanwhile."""

    async def body(one: Store, two: Store) -> None:
        await one.put("fn", A, "k", {"v": "committed"})
        inside = asyncio.Event()
        issued = asyncio.Event()
        seen: list[object] = []

        async def failing() -> None:
            with pytest.raises(Boom):
                async with one.transaction():
                    await one.put("fn", A, "k", {"v": "rolled back"})
                    await one.put("fn", A, "tx", {})
                    inside.set()
                    await issued.wait()
                    for _ in range(20):  # give the other node's write every chance to run
                        await asyncio.sleep(0)
                    raise Boom

        async def other_node() -> None:
            await inside.wait()
            seen.append(await two.get("fn", A, "k"))
            write = asyncio.ensure_future(two.put("fn", A, "plain", {"v": 1}))
            issued.set()
            await write

        await asyncio.gather(failing(), other_node())
        assert seen == [{"v": "committed"}]
        for store in (one, two):
            assert await store.get("fn", A, "tx") is None
            assert await store.get("fn", A, "k") == {"v": "committed"}
            assert await store.get("fn", A, "plain") == {"v": 1}

    run_with_two(backend, tmp_path, body)


def test_a_commit_on_one_node_is_read_on_the_other(backend: Backend, tmp_path: Path) -> None:
    async def body(one: Store, two: Store) -> None:
        async with one.transaction():
            await one.put("fn", A, "a", {"v": 1}, parent="p")
            assert await one.insert("fn", A, "b", {"v": 2}, parent="p")
        assert [r.doc for r in await two.list("fn", A, parent="p")] == [{"v": 1}, {"v": 2}]
        assert await two.insert("fn", A, "a", {"v": 3}) is False
        assert await two.delete("fn", A, "b")
        assert [r.key for _, r in await one.scan("fn")] == ["a"]

    run_with_two(backend, tmp_path, body)
