"""Every `Store` implementation the contract suite runs against, and how to open each.

Adding a backend is one line in BACKENDS (issue 7 adds PostgreSQL here, marked `services`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
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
    # Opens the store kept at `where` (a directory of its own); opening again reopens it.
    open: Callable[[Path], Store]
    durable: bool  # what was committed survives close and reopen


BACKENDS = [
    pytest.param(Backend("memory", lambda where: MemoryStore(), durable=False), id="memory"),
    pytest.param(
        Backend("sqlite", lambda where: SqliteStore(where / "state.db"), durable=True), id="sqlite"
    ),
]

# The in-memory fake keeps nothing across instances, by design.
DURABLE = [p for p in BACKENDS if p.values[0].durable]  # type: ignore[union-attr]


def run_with(backend: Backend, where: Path, body: Callable[[Store], Awaitable[T]]) -> T:
    """Open a store, run `body` on a fresh event loop with a hang bound, close the store."""

    async def main() -> T:
        store = backend.open(where)
        try:
            return await asyncio.wait_for(body(store), HANG_S)
        finally:
            await store.close()

    return asyncio.run(main())
