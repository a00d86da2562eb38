"""PostgreSQL's own part of the store contract: what only a server at the other end of a
connection can do to a store."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import psycopg
import pytest

from lambent.store.postgres import PostgresStore
from tests.pg import BASE_URL, fresh_schema

A = "111111111111"


@pytest.mark.services
def test_postgres_replaces_connections_the_server_dropped(tmp_path: Path) -> None:
    """A restart or a terminated backend costs no request: the pool tries a connection
    before lending it (here: every backend of this store's pool is terminated, idle)."""
    name = "store-" + secrets.token_hex(4)

    async def body(url: str) -> None:
        store = await PostgresStore.open(url, max_size=2, name=name)
        try:
            await store.put("fn", A, "k", {"v": 1})
            async with await psycopg.AsyncConnection.connect(BASE_URL, autocommit=True) as admin:
                cur = await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    (f"lambent-{name}",),
                )
                assert len(await cur.fetchall()) >= 1
            assert await store.get("fn", A, "k") == {"v": 1}
            async with store.transaction():
                await store.put("fn", A, "k", {"v": 2})
            assert await store.get("fn", A, "k") == {"v": 2}
        finally:
            await store.close()

    with fresh_schema() as url:
        asyncio.run(asyncio.wait_for(body(url), 30))


class Boom(Exception):
    pass


@pytest.mark.services
def test_a_transaction_whose_connection_died_raises_its_own_error(tmp_path: Path) -> None:
    """The failed ROLLBACK on a dead connection does not replace the caller's exception,
    and the store goes on with new connections."""
    name = "store-" + secrets.token_hex(4)

    async def body(url: str) -> None:
        store = await PostgresStore.open(url, max_size=2, name=name)
        try:
            with pytest.raises(Boom):
                async with store.transaction():
                    await store.put("fn", A, "lost", {})
                    await terminate(name)
                    raise Boom
            assert await store.get("fn", A, "lost") is None
            await store.put("fn", A, "after", {})
            assert await store.get("fn", A, "after") == {}
        finally:
            await store.close()

    with fresh_schema() as url:
        asyncio.run(asyncio.wait_for(body(url), 30))


async def terminate(name: str) -> None:
    """Every backend of the store opened with `name` (its pool's connections) is killed."""
    async with await psycopg.AsyncConnection.connect(BASE_URL, autocommit=True) as admin:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (f"lambent-{name}",),
        )
