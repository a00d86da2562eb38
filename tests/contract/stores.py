"""Every `Store` implementation the contract suite runs against, and how to open each.

Adding a backend is one entry in BACKENDS. PostgreSQL needs the machine's server (marked
`services`): the `backend` fixture binds it to a fresh schema of the test's own, so the
`where` a test passes is the place for the file backends and the schema is PostgreSQL's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from lambent.store.interface import Store
from lambent.store.memory import MemoryStore
from lambent.store.sqlite import SqliteStore

T = TypeVar("T")
# Longer than any store call can take on a busy machine: only a hang or a deadlock hits it.
HANG_S = 30.0


@dataclass(frozen=True)
class Backend:
    name: str
    # Opens the store kept at `where` (a directory of its own); opening again reopens it,
    # and a second store open at the same time shares its data when `durable` (two nodes).
    open: Callable[[Path], Awaitable[Store]]
    durable: bool  # what was committed survives close and reopen
    needs_schema: bool = False  # PostgreSQL: bound to a fresh schema by `bound()`

    @contextlib.contextmanager
    def bound(self) -> Iterator[Backend]:
        """This backend ready for one test (PostgreSQL: on a schema dropped afterwards)."""
        if not self.needs_schema:
            yield self
            return
        from tests.pg import fresh_schema

        with fresh_schema() as url:
            yield dataclasses.replace(self, open=lambda where: _postgres(url))


async def _memory(where: Path) -> Store:
    return MemoryStore()


async def _sqlite(where: Path) -> Store:
    return SqliteStore(where / "state.db")


async def _postgres(url: str) -> Store:
    from lambent.store.postgres import PostgresStore

    return await PostgresStore.open(url, max_size=4)


async def _unbound(where: Path) -> Store:
    raise RuntimeError("PostgreSQL is opened through Backend.bound()")


BACKENDS = [
    pytest.param(Backend("memory", _memory, durable=False), id="memory"),
    pytest.param(Backend("sqlite", _sqlite, durable=True), id="sqlite"),
    pytest.param(
        Backend("postgres", _unbound, durable=True, needs_schema=True),
        id="postgres",
        marks=pytest.mark.services,
    ),
]

# The in-memory fake keeps nothing across instances, by design.
DURABLE = [p for p in BACKENDS if p.values[0].durable]  # type: ignore[union-attr]


def run_with(backend: Backend, where: Path, body: Callable[[Store], Awaitable[T]]) -> T:
    """Open a store, run `body` on a fresh event loop with a hang bound, close the store."""

    async def main() -> T:
        store = await backend.open(where)
        try:
            return await asyncio.wait_for(body(store), HANG_S)
        finally:
            await store.close()

    return asyncio.run(main())


def run_with_two(backend: Backend, where: Path, body: Callable[[Store, Store], Awaitable[T]]) -> T:
    """Two stores open on the same place at once (two nodes of a cluster), one loop."""

    async def main() -> T:
        first = await backend.open(where)
        try:
            second = await backend.open(where)
            try:
                return await asyncio.wait_for(body(first, second), HANG_S)
            finally:
                await second.close()
        finally:
            await first.close()

    return asyncio.run(main())
