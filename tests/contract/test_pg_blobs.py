"""PostgreSQL's blobs past a lost connection: the pool checks one before lending it."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from lambent.blobs.postgres import CODE, PgBlobs, migrate_schema, open_blocking_pool

pytestmark = pytest.mark.services


def test_a_connection_the_server_dropped_is_replaced_without_an_error(pg_url: str) -> None:
    asyncio.run(migrate_schema(pg_url))
    pool = open_blocking_pool(pg_url, max_size=1)
    try:
        blobs = PgBlobs(pool, CODE)
        blobs.put("ab" * 32, b"kept")
        with pool.connection() as conn:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()
        with psycopg.connect(pg_url, autocommit=True) as admin:  # as a database restart does
            admin.execute("SELECT pg_terminate_backend(%s)", pid)
        assert blobs.get("ab" * 32) == b"kept"
    finally:
        pool.close()
