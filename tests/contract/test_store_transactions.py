"""The Store contract, transactions: atomic commit, rollback on exception, read-your-writes,
isolation from other tasks, one writer at a time, nesting, and task ownership.

Concurrency here is real interleaving on one event loop: tasks hand each other control with
events, never with sleeps; `run_with` bounds every test against a hang or deadlock."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lambent.store.interface import Store
from tests.contract.stores import Backend, run_with

A = "111111111111"


class Boom(Exception):
    pass


def test_a_transaction_commits_every_write(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        await store.put("fn", A, "gone", {})
        await store.put("ver", A, "f:1", {}, parent="f")
        async with store.transaction():
            await store.put("fn", A, "a", {"v": 1})
            assert await store.insert("fn", A, "b", {"v": 2})
            assert await store.delete("fn", A, "gone")
            assert await store.delete_children("ver", A, "f") == 1
        assert [r.key for r in await store.list("fn", A)] == ["a", "b"]
        assert await store.list("ver", A) == []

    run_with(backend, tmp_path, body)


def test_an_exception_rolls_every_write_back(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        await store.put("fn", A, "kept", {"v": "before"})
        await store.put("ver", A, "f:1", {"v": 1}, parent="f")
        with pytest.raises(Boom):
            async with store.transaction():
                await store.put("fn", A, "kept", {"v": "changed"})
                await store.put("fn", A, "new", {})
                await store.insert("fn", A, "inserted", {})
                await store.delete_children("ver", A, "f")
                raise Boom
        assert await store.get("fn", A, "kept") == {"v": "before"}
        assert [r.key for r in await store.list("fn", A)] == ["kept"]
        assert [r.doc for r in await store.list("ver", A, parent="f")] == [{"v": 1}]
        # The store is usable afterwards: the failed transaction let go of the writer.
        async with store.transaction():
            await store.put("fn", A, "after", {})
        assert await store.get("fn", A, "after") == {}

    run_with(backend, tmp_path, body)


def test_a_transaction_reads_its_own_writes(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        await store.put("fn", A, "old", {"v": 0}, parent="p")
        async with store.transaction():
            await store.put("fn", A, "new", {"v": 1}, parent="p")
            await store.put("fn", A, "old", {"v": 2}, parent="p")
            assert await store.get("fn", A, "new") == {"v": 1}
            assert [r.doc["v"] for r in await store.list("fn", A, parent="p")] == [1, 2]
            assert [r.key for _, r in await store.scan("fn")] == ["new", "old"]
            assert await store.insert("fn", A, "new", {}) is False
            assert await store.delete("fn", A, "new") is True
            assert await store.get("fn", A, "new") is None

    run_with(backend, tmp_path, body)


def test_other_tasks_see_only_committed_data(backend: Backend, tmp_path: Path) -> None:
    """And they are not held up: a read outside the transaction answers while it is open."""

    async def body(store: Store) -> None:
        await store.put("fn", A, "k", {"v": "committed"})
        written = asyncio.Event()
        looked = asyncio.Event()
        seen: list[object] = []

        async def writer() -> None:
            async with store.transaction():
                await store.put("fn", A, "k", {"v": "uncommitted"})
                await store.put("fn", A, "extra", {})
                written.set()
                await looked.wait()

        async def reader() -> None:
            await written.wait()
            seen.append(await store.get("fn", A, "k"))
            seen.append([r.key for r in await store.list("fn", A)])
            looked.set()

        await asyncio.gather(writer(), reader())
        assert seen == [{"v": "committed"}, ["k"]]
        assert await store.get("fn", A, "k") == {"v": "uncommitted"}

    run_with(backend, tmp_path, body)


def test_concurrent_read_modify_writes_lose_no_update(backend: Backend, tmp_path: Path) -> None:
    """Writers take turns: each increment sees the one before, though every task yields
    between its read and its write."""
    tasks = 20

    async def body(store: Store) -> None:
        await store.put("counter", A, "n", {"n": 0})

        async def increment() -> None:
            async with store.transaction():
                doc = await store.get("counter", A, "n")
                assert doc is not None
                await asyncio.sleep(0)  # let every other task try to get in here
                await store.put("counter", A, "n", {"n": doc["n"] + 1})

        await asyncio.gather(*(increment() for _ in range(tasks)))
        assert await store.get("counter", A, "n") == {"n": tasks}

    run_with(backend, tmp_path, body)


def test_a_write_outside_waits_and_survives_a_rollback(backend: Backend, tmp_path: Path) -> None:
    """A plain write from another task never lands inside someone else's transaction."""

    async def body(store: Store) -> None:
        inside = asyncio.Event()
        issued = asyncio.Event()

        async def failing() -> None:
            with pytest.raises(Boom):
                async with store.transaction():
                    await store.put("fn", A, "tx", {})
                    inside.set()
                    await issued.wait()
                    for _ in range(20):  # give the other write every chance to run now
                        await asyncio.sleep(0)
                    raise Boom

        async def plain() -> None:
            await inside.wait()
            write = asyncio.ensure_future(store.put("fn", A, "plain", {"v": 1}))
            issued.set()
            await write

        await asyncio.gather(failing(), plain())
        assert await store.get("fn", A, "tx") is None
        assert await store.get("fn", A, "plain") == {"v": 1}

    run_with(backend, tmp_path, body)


def test_a_nested_transaction_joins_the_outer_one(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        with pytest.raises(Boom):
            async with store.transaction():
                async with store.transaction():
                    await store.put("fn", A, "inner", {})
                assert await store.get("fn", A, "inner") == {}
                raise Boom
        assert await store.get("fn", A, "inner") is None

        observed: list[object] = []
        inner_done = asyncio.Event()
        looked = asyncio.Event()

        async def nested() -> None:
            async with store.transaction():
                async with store.transaction():
                    await store.put("fn", A, "inner", {"v": 1})
                inner_done.set()
                await looked.wait()

        async def outsider() -> None:
            await inner_done.wait()
            observed.append(await store.get("fn", A, "inner"))  # not committed yet
            looked.set()

        await asyncio.gather(nested(), outsider())
        assert observed == [None]
        assert await store.get("fn", A, "inner") == {"v": 1}

    run_with(backend, tmp_path, body)


def test_a_transaction_belongs_to_the_task_that_opened_it(backend: Backend, tmp_path: Path) -> None:
    """A task started inside a transaction runs outside it: it reads committed data."""

    async def body(store: Store) -> None:
        await store.put("fn", A, "k", {"v": "committed"})

        async def child() -> object:
            return await store.get("fn", A, "k")

        async with store.transaction():
            await store.put("fn", A, "k", {"v": "mine"})
            seen = await asyncio.create_task(child())
            assert await store.get("fn", A, "k") == {"v": "mine"}
        assert seen == {"v": "committed"}

    run_with(backend, tmp_path, body)


def test_a_cancelled_transaction_rolls_back(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        inside = asyncio.Event()

        async def doomed() -> None:
            async with store.transaction():
                await store.put("fn", A, "doomed", {})
                inside.set()
                await asyncio.Event().wait()  # until cancelled

        task = asyncio.create_task(doomed())
        await inside.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await store.get("fn", A, "doomed") is None
        await store.put("fn", A, "after", {})  # the writer was let go
        assert await store.get("fn", A, "after") == {}

    run_with(backend, tmp_path, body)


def test_a_task_started_in_a_transaction_writes_outside_it(
    backend: Backend, tmp_path: Path
) -> None:
    """Its write waits for the transaction to end and survives the transaction's rollback:
    it never ran on the transaction's connection."""

    async def body(store: Store) -> None:
        child: asyncio.Task[None] | None = None
        with pytest.raises(Boom):
            async with store.transaction():
                await store.put("fn", A, "parent", {})
                child = asyncio.create_task(store.put("fn", A, "child", {"v": 1}))
                for _ in range(20):  # the child gets every chance to write now
                    await asyncio.sleep(0)
                raise Boom
        assert child is not None
        await child
        assert await store.get("fn", A, "parent") is None
        assert await store.get("fn", A, "child") == {"v": 1}

    run_with(backend, tmp_path, body)
