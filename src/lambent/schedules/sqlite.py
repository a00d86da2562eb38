"""Schedules on SQLite (`DATA/schedules.db`): one connection used from a worker thread
under a lock; schedules change at API speed and fire at most a few thousand a minute."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from lambent.schedules.backend import Doc, Due, Timing

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS schedule_groups (
    account TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account, name)
);
CREATE TABLE IF NOT EXISTS schedules (
    account TEXT NOT NULL, grp TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
    enabled INTEGER NOT NULL, fire_at REAL, due REAL, attempts INTEGER NOT NULL DEFAULT 0,
    lease_until REAL NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, grp, name)
);
CREATE INDEX IF NOT EXISTS schedules_fire ON schedules (fire_at) WHERE enabled = 1;
"""


def _enabled(doc: Doc) -> int:
    return 1 if doc.get("State", "ENABLED") == "ENABLED" else 0


class SqliteSchedules:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript("PRAGMA journal_mode=WAL;" + SCHEMA)
        self._lock = asyncio.Lock()

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        async with self._lock:
            return await asyncio.to_thread(self._tx, fn)

    def _tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            out = fn(self._db)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return out

    async def _rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return await self._run(lambda db: db.execute(sql, args).fetchall())

    async def _change(self, sql: str, args: tuple[Any, ...]) -> bool:
        return await self._run(lambda db: db.execute(sql, args).rowcount > 0)

    # -- groups ----------------------------------------------------------------------------
    async def create_group(self, account: str, name: str, doc: Doc) -> bool:
        sql = "INSERT OR IGNORE INTO schedule_groups VALUES (?, ?, ?)"
        return await self._change(sql, (account, name, json.dumps(doc)))

    async def get_group(self, account: str, name: str) -> Doc | None:
        sql = "SELECT doc FROM schedule_groups WHERE account = ? AND name = ?"
        rows = await self._rows(sql, (account, name))
        return json.loads(rows[0][0]) if rows else None

    async def put_group(self, account: str, name: str, doc: Doc) -> bool:
        sql = "UPDATE schedule_groups SET doc = ? WHERE account = ? AND name = ?"
        return await self._change(sql, (json.dumps(doc), account, name))

    async def list_groups(self, account: str) -> list[Doc]:
        sql = "SELECT doc FROM schedule_groups WHERE account = ? ORDER BY name"
        return [json.loads(r[0]) for r in await self._rows(sql, (account,))]

    async def delete_group(self, account: str, name: str) -> bool:
        def run(db: sqlite3.Connection) -> bool:
            db.execute("DELETE FROM schedules WHERE account = ? AND grp = ?", (account, name))
            sql = "DELETE FROM schedule_groups WHERE account = ? AND name = ?"
            return db.execute(sql, (account, name)).rowcount > 0

        return await self._run(run)

    # -- schedules -------------------------------------------------------------------------
    async def create_schedule(
        self, account: str, group: str, name: str, doc: Doc, timing: Timing
    ) -> bool:
        sql = (
            "INSERT OR IGNORE INTO schedules (account, grp, name, doc, enabled, fire_at, due)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        args = (account, group, name, json.dumps(doc), _enabled(doc), timing.fire_at, timing.due)
        return await self._change(sql, args)

    async def update_schedule(
        self, account: str, group: str, name: str, doc: Doc, timing: Timing
    ) -> bool:
        sql = (
            "UPDATE schedules SET doc = ?, enabled = ?, fire_at = ?, due = ?, attempts = 0,"
            " lease_until = 0, version = version + 1 WHERE account = ? AND grp = ? AND name = ?"
        )
        args = (json.dumps(doc), _enabled(doc), timing.fire_at, timing.due, account, group, name)
        return await self._change(sql, args)

    async def get_schedule(self, account: str, group: str, name: str) -> Doc | None:
        sql = "SELECT doc FROM schedules WHERE account = ? AND grp = ? AND name = ?"
        rows = await self._rows(sql, (account, group, name))
        return json.loads(rows[0][0]) if rows else None

    async def list_schedules(self, account: str, group: str | None) -> list[Doc]:
        args: tuple[Any, ...] = (account,)
        if group is None:
            sql = "SELECT doc FROM schedules WHERE account = ?"
        else:
            sql = "SELECT doc FROM schedules WHERE account = ? AND grp = ?"
            args = (account, group)
        rows = await self._rows(sql + " ORDER BY grp, name", args)
        return [json.loads(r[0]) for r in rows]

    async def delete_schedule(self, account: str, group: str, name: str) -> bool:
        sql = "DELETE FROM schedules WHERE account = ? AND grp = ? AND name = ?"
        return await self._change(sql, (account, group, name))

    # -- firing ----------------------------------------------------------------------------
    async def claim_due(self, now: float, limit: int, lease_s: float) -> list[Due]:
        def run(db: sqlite3.Connection) -> list[Due]:
            rows = db.execute(
                "SELECT account, grp, name, doc, due, attempts, version FROM schedules"
                " WHERE enabled = 1 AND fire_at <= ? AND lease_until <= ?"
                " ORDER BY fire_at LIMIT ?",
                (now, now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE schedules SET lease_until = ? WHERE account = ? AND grp = ? AND name = ?",
                [(now + lease_s, r[0], r[1], r[2]) for r in rows],
            )
            return [Due(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6]) for r in rows]

        return await self._run(run)

    async def settle(self, claimed: Due, timing: Timing, delete: bool) -> bool:
        return await self.settle_many([(claimed, timing, delete)]) == 1

    async def settle_many(self, outcomes: list[tuple[Due, Timing, bool]]) -> int:
        where = " WHERE account = ? AND grp = ? AND name = ? AND version = ?"
        update = (
            "UPDATE schedules SET fire_at = ?, due = ?, attempts = ?, lease_until = 0,"
            " version = version + 1" + where
        )
        keys = [((d.account, d.group, d.name, d.version), t, rm) for d, t, rm in outcomes]
        gone = [k for k, _, rm in keys if rm]
        moved = [(t.fire_at, t.due, t.attempts, *k) for k, t, rm in keys if not rm]

        def run(db: sqlite3.Connection) -> int:
            n = db.executemany("DELETE FROM schedules" + where, gone).rowcount
            return n + db.executemany(update, moved).rowcount

        return await self._run(run)

    async def next_fire_at(self) -> float | None:
        sql = "SELECT MIN(fire_at) FROM schedules WHERE enabled = 1"
        rows = await self._rows(sql, ())
        return rows[0][0] if rows else None

    async def close(self) -> None:
        async with self._lock:
            self._db.close()
