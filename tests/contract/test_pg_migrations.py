"""Versioned migrations: each step once, in order, even with nodes starting together."""

from __future__ import annotations

import asyncio

import pytest

from lambent.pg.connect import open_pool
from lambent.pg.migrations import Migration, migrate

pytestmark = pytest.mark.services

STEPS = [
    Migration(1, "CREATE TABLE things (id integer PRIMARY KEY)"),
    Migration(2, "ALTER TABLE things ADD COLUMN name text"),
]


def test_steps_apply_once_and_later_steps_apply_on_a_later_start(pg_url: str) -> None:
    async def main() -> None:
        pool = await open_pool(pg_url, name="test")
        try:
            assert await migrate(pool, "things", STEPS[:1]) == [1]
            assert await migrate(pool, "things", STEPS[:1]) == []
            assert await migrate(pool, "things", STEPS) == [2]
            async with pool.connection() as conn:
                await conn.execute("INSERT INTO things (id, name) VALUES (1, 'a')")
        finally:
            await pool.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_nodes_starting_together_apply_each_step_once(pg_url: str) -> None:
    async def main() -> list[list[int]]:
        pools = [await open_pool(pg_url, name=f"n{i}") for i in range(4)]
        try:
            return list(await asyncio.gather(*(migrate(p, "things", STEPS) for p in pools)))
        finally:
            for p in pools:
                await p.close()

    results = asyncio.run(asyncio.wait_for(main(), 30))
    assert sorted(v for r in results for v in r) == [1, 2]


def test_steps_must_be_numbered_from_one(pg_url: str) -> None:
    async def main() -> None:
        pool = await open_pool(pg_url, name="test")
        try:
            with pytest.raises(ValueError):
                await migrate(pool, "things", [Migration(2, "SELECT 1")])
        finally:
            await pool.close()

    asyncio.run(main())
