"""Schedules on PostgreSQL (`scheduler_*` tables), shared by every node of a cluster.

A due schedule is claimed with `FOR UPDATE SKIP LOCKED` and a lease, so of several nodes
exactly one fires a due time; a node that dies mid-fire leaves a lease that lapses and
another node fires it (at least once, as AWS's Scheduler). Other nodes learn of new
schedules by polling `next_fire_at` once a second (the firer's idle tick).
"""

from __future__ import annotations

import json
from typing import Any, LiteralString

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from lambent.pg.connect import open_pool
from lambent.pg.migrations import Migration, migrate
from lambent.schedules.backend import Doc, Due, Timing

COMPONENT = "scheduler"
MIGRATIONS = [
    Migration(
        1,
        """
        CREATE TABLE scheduler_groups (
            account TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
            PRIMARY KEY (account, name)
        );
        CREATE TABLE scheduler_schedules (
            account TEXT NOT NULL, grp TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
            enabled BOOLEAN NOT NULL, fire_at DOUBLE PRECISION, due DOUBLE PRECISION,
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
            version BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (account, grp, name)
        );
        CREATE INDEX scheduler_schedules_fire ON scheduler_schedules (fire_at) WHERE enabled;
        """,
    )
]

_KEY = " WHERE account = %s AND grp = %s AND name = %s"


def _enabled(doc: Doc) -> bool:
    return bool(doc.get("State", "ENABLED") == "ENABLED")


class PgSchedules:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 2) -> PgSchedules:
        pool = await open_pool(url, name="scheduler", min_size=1, max_size=pool_size)
        try:
            await migrate(pool, COMPONENT, MIGRATIONS)
        except BaseException:
            await pool.close()
            raise
        return cls(pool)

    async def _rows(self, sql: LiteralString, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        async with self._pool.connection() as conn:
            return await (await conn.execute(sql, args)).fetchall()

    async def _change(self, sql: LiteralString, args: tuple[Any, ...]) -> bool:
        async with self._pool.connection() as conn:
            return (await conn.execute(sql, args)).rowcount > 0

    # -- groups ----------------------------------------------------------------------------
    async def create_group(self, account: str, name: str, doc: Doc) -> bool:
        sql: LiteralString = (
            "INSERT INTO scheduler_groups VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
        )
        return await self._change(sql, (account, name, json.dumps(doc)))

    async def get_group(self, account: str, name: str) -> Doc | None:
        sql: LiteralString = "SELECT doc FROM scheduler_groups WHERE account = %s AND name = %s"
        rows = await self._rows(sql, (account, name))
        return json.loads(rows[0][0]) if rows else None

    async def put_group(self, account: str, name: str, doc: Doc) -> bool:
        sql: LiteralString = "UPDATE scheduler_groups SET doc = %s WHERE account = %s AND name = %s"
        return await self._change(sql, (json.dumps(doc), account, name))

    async def list_groups(self, account: str) -> list[Doc]:
        sql: LiteralString = "SELECT doc FROM scheduler_groups WHERE account = %s ORDER BY name"
        return [json.loads(r[0]) for r in await self._rows(sql, (account,))]

    async def delete_group(self, account: str, name: str) -> bool:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM scheduler_schedules WHERE account = %s AND grp = %s", (account, name)
            )
            cur = await conn.execute(
                "DELETE FROM scheduler_groups WHERE account = %s AND name = %s", (account, name)
            )
            return cur.rowcount > 0

    # -- schedules -------------------------------------------------------------------------
    async def create_schedule(
        self, account: str, group: str, name: str, doc: Doc, timing: Timing
    ) -> bool:
        sql: LiteralString = (
            "INSERT INTO scheduler_schedules (account, grp, name, doc, enabled, fire_at, due)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
        )
        args = (account, group, name, json.dumps(doc), _enabled(doc), timing.fire_at, timing.due)
        return await self._change(sql, args)

    async def update_schedule(
        self, account: str, group: str, name: str, doc: Doc, timing: Timing
    ) -> bool:
        sql: LiteralString = (
            "UPDATE scheduler_schedules SET doc = %s, enabled = %s, fire_at = %s, due = %s,"
            " attempts = 0, lease_until = 0, version = version + 1" + _KEY
        )
        args = (json.dumps(doc), _enabled(doc), timing.fire_at, timing.due, account, group, name)
        return await self._change(sql, args)

    async def get_schedule(self, account: str, group: str, name: str) -> Doc | None:
        rows = await self._rows(
            "SELECT doc FROM scheduler_schedules" + _KEY, (account, group, name)
        )
        return json.loads(rows[0][0]) if rows else None

    async def list_schedules(self, account: str, group: str | None) -> list[Doc]:
        if group is None:
            rows = await self._rows(
                "SELECT doc FROM scheduler_schedules WHERE account = %s ORDER BY grp, name",
                (account,),
            )
        else:
            rows = await self._rows(
                "SELECT doc FROM scheduler_schedules WHERE account = %s AND grp = %s ORDER BY name",
                (account, group),
            )
        return [json.loads(r[0]) for r in rows]

    async def delete_schedule(self, account: str, group: str, name: str) -> bool:
        return await self._change("DELETE FROM scheduler_schedules" + _KEY, (account, group, name))

    # -- firing ----------------------------------------------------------------------------
    async def claim_due(self, now: float, limit: int, lease_s: float) -> list[Due]:
        sql: LiteralString = """
            UPDATE scheduler_schedules s SET lease_until = %s
            FROM (SELECT account, grp, name FROM scheduler_schedules
                  WHERE enabled AND fire_at <= %s AND lease_until <= %s
                  ORDER BY fire_at LIMIT %s FOR UPDATE SKIP LOCKED) d
            WHERE s.account = d.account AND s.grp = d.grp AND s.name = d.name
            RETURNING s.account, s.grp, s.name, s.doc, s.due, s.attempts, s.version
        """
        rows = await self._rows(sql, (now + lease_s, now, now, limit))
        return [Due(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6]) for r in rows]

    async def settle(self, claimed: Due, timing: Timing, delete: bool) -> bool:
        return await self.settle_many([(claimed, timing, delete)]) == 1

    async def settle_many(self, outcomes: list[tuple[Due, Timing, bool]]) -> int:
        where: LiteralString = _KEY + " AND version = %s"
        update: LiteralString = (
            "UPDATE scheduler_schedules SET fire_at = %s, due = %s, attempts = %s,"
            " lease_until = 0, version = version + 1" + where
        )
        keys = [((d.account, d.group, d.name, d.version), t, rm) for d, t, rm in outcomes]
        gone = [k for k, _, rm in keys if rm]
        moved = [(t.fire_at, t.due, t.attempts, *k) for k, t, rm in keys if not rm]
        settled = 0
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            # executemany pipelines the statements: one round trip for the batch.
            if gone:
                await cur.executemany("DELETE FROM scheduler_schedules" + where, gone)
                settled += max(cur.rowcount, 0)
            if moved:
                await cur.executemany(update, moved)
                settled += max(cur.rowcount, 0)
        return settled

    async def next_fire_at(self) -> float | None:
        rows = await self._rows("SELECT MIN(fire_at) FROM scheduler_schedules WHERE enabled", ())
        return float(rows[0][0]) if rows and rows[0][0] is not None else None

    async def close(self) -> None:
        await self._pool.close()
