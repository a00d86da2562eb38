"""The SQLite event queue: its own file (`DATA/queue.db`), WAL, `synchronous=FULL`.

Every write goes through one group-commit writer (see group_commit.py), so an acceptance
is on disk before its 202, and concurrent acceptances share fsyncs. The payload is written
once; retries update only the small state column.

Each row names its function (the unqualified ARN) in its own indexed column, so claims go
per function and finding the functions with due events is one index probe per function
(a loose index scan), whatever the backlog behind them. A file from before that column
existed gets it filled from the destination at open.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from lambent.async_invoke.event import Destination, EventState, QueuedEvent
from lambent.async_invoke.group_commit import GroupCommitWriter
from lambent.async_invoke.queue import DueFunction, QueueStats

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    destination TEXT NOT NULL,
    payload BLOB NOT NULL,
    state TEXT NOT NULL,
    available_at REAL NOT NULL,
    claimed_until REAL,
    function TEXT NOT NULL DEFAULT ''
);
"""
INDEXES = """
CREATE INDEX IF NOT EXISTS events_due ON events (available_at, seq)
    WHERE claimed_until IS NULL;
CREATE INDEX IF NOT EXISTS events_claimed ON events (claimed_until)
    WHERE claimed_until IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_function_due ON events (function, available_at, seq)
    WHERE claimed_until IS NULL;
CREATE INDEX IF NOT EXISTS events_function_claimed ON events (function, claimed_until)
    WHERE claimed_until IS NOT NULL;
"""

COLUMNS = "event_id, destination, payload, state, available_at"

# The distinct functions with unclaimed events: one index probe each (a loose index scan),
# not a pass over every queued row.
UNCLAIMED_FUNCTIONS = """
WITH RECURSIVE fns(fn) AS (
    SELECT MIN(function) FROM events WHERE claimed_until IS NULL
    UNION ALL
    SELECT (SELECT MIN(function) FROM events WHERE claimed_until IS NULL AND function > fns.fn)
    FROM fns WHERE fns.fn IS NOT NULL
)
SELECT fn FROM fns WHERE fn IS NOT NULL
"""


def _setup(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    if "function" not in columns:  # a queue file written before claims went per function
        conn.execute("ALTER TABLE events ADD COLUMN function TEXT NOT NULL DEFAULT ''")
        conn.execute("UPDATE events SET function = json_extract(destination, '$.arn')")
    conn.executescript(INDEXES)


def _event(row: tuple[str, str, bytes, str, float]) -> QueuedEvent:
    event_id, destination, payload, state, available_at = row
    return QueuedEvent(
        event_id=event_id,
        destination=Destination.from_json(destination),
        payload=bytes(payload),
        state=EventState.from_json(state),
        available_at=float(available_at),
    )


class SqliteQueue:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = GroupCommitWriter(path, _setup)

    async def enqueue(self, event: QueuedEvent) -> None:
        row = (
            event.event_id,
            event.destination.to_json(),
            event.payload,
            event.state.to_json(),
            event.available_at,
            event.destination.function_arn,
        )

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT OR IGNORE INTO events ({COLUMNS}, function) VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )

        await self._writer.run(work)

    async def due_functions(self, now: float, cap: int) -> list[DueFunction]:
        def work(conn: sqlite3.Connection) -> list[DueFunction]:
            found: dict[str, DueFunction] = {}
            for (fn,) in conn.execute(UNCLAIMED_FUNCTIONS).fetchall():
                first = conn.execute(
                    "SELECT MIN(available_at) FROM events "
                    "WHERE claimed_until IS NULL AND function = ?",
                    (fn,),
                ).fetchone()[0]
                if first is None or first > now:
                    continue
                count = conn.execute(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE claimed_until IS NULL "
                    "AND function = ? AND available_at <= ? LIMIT ?)",
                    (fn, now, cap),
                ).fetchone()[0]
                found[fn] = DueFunction(fn, int(count), float(first))
            lapsed = conn.execute(
                "SELECT function, COUNT(*), MIN(claimed_until) FROM events "
                "WHERE claimed_until IS NOT NULL AND claimed_until <= ? GROUP BY function",
                (now,),
            ).fetchall()
            for fn, count, first in lapsed:
                known = found.get(fn) or DueFunction(fn, 0, float(first))
                found[fn] = DueFunction(
                    fn, min(int(count) + known.count, cap), min(float(first), known.due_at)
                )
            return sorted(found.values(), key=lambda d: (d.due_at, d.function_arn))

        return await self._writer.run(work, durable=False)

    async def claim(
        self, function_arn: str, now: float, limit: int, lease_s: float
    ) -> list[QueuedEvent]:
        if limit <= 0:
            return []

        def work(conn: sqlite3.Connection) -> list[QueuedEvent]:
            # Lapsed leases first: those events have waited longest.
            rows = conn.execute(
                f"SELECT seq, {COLUMNS} FROM events WHERE claimed_until IS NOT NULL "
                "AND function = ? AND claimed_until <= ? ORDER BY claimed_until LIMIT ?",
                (function_arn, now, limit),
            ).fetchall()
            rows += conn.execute(
                f"SELECT seq, {COLUMNS} FROM events WHERE claimed_until IS NULL "
                "AND function = ? AND available_at <= ? ORDER BY available_at, seq LIMIT ?",
                (function_arn, now, limit - len(rows)),
            ).fetchall()
            conn.executemany(
                "UPDATE events SET claimed_until = ? WHERE seq = ?",
                [(now + lease_s, row[0]) for row in rows],
            )
            return [_event(row[1:]) for row in rows]

        # A claim lost in a crash is as good as handed back (recover() does that anyway).
        return await self._writer.run(work, durable=False)

    async def complete(self, event_id: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM events WHERE event_id = ?", (event_id,))

        await self._writer.run(work)

    async def reschedule(self, event_id: str, state: EventState, available_at: float) -> None:
        text = state.to_json()

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE events SET state = ?, available_at = ?, claimed_until = NULL "
                "WHERE event_id = ?",
                (text, available_at, event_id),
            )

        await self._writer.run(work)

    async def release(self, event_ids: Sequence[str]) -> None:
        ids = [(event_id,) for event_id in event_ids]

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany("UPDATE events SET claimed_until = NULL WHERE event_id = ?", ids)

        await self._writer.run(work)

    async def recover(self) -> int:
        def work(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "UPDATE events SET claimed_until = NULL WHERE claimed_until IS NOT NULL"
            )
            return int(cur.rowcount)

        return await self._writer.run(work)

    async def next_due(self, after: float) -> float | None:
        def work(conn: sqlite3.Connection) -> float | None:
            due = conn.execute(
                "SELECT MIN(available_at) FROM events "
                "WHERE claimed_until IS NULL AND available_at > ?",
                (after,),
            ).fetchone()[0]
            lease = conn.execute(
                "SELECT MIN(claimed_until) FROM events "
                "WHERE claimed_until IS NOT NULL AND claimed_until > ?",
                (after,),
            ).fetchone()[0]
            times = [float(t) for t in (due, lease) if t is not None]
            return min(times, default=None)

        return await self._writer.run(work, durable=False)

    async def claimed_elsewhere(
        self, account_id: str, function_arn: str | None, now: float
    ) -> bool:
        return False  # one server owns this queue

    def on_remote(self, wake: Callable[[], None]) -> None:
        """One server owns this queue: no other node ever makes events due."""

    async def stats(self) -> QueueStats:
        def work(conn: sqlite3.Connection) -> tuple[int, int]:
            row = conn.execute("SELECT COUNT(*), COUNT(claimed_until) FROM events").fetchone()
            return int(row[0]), int(row[1])

        total, claimed = await self._writer.run(work, durable=False)
        return QueueStats(
            queued=total - claimed,
            claimed=claimed,
            commits=self._writer.commits,
            operations=self._writer.operations,
        )

    async def close(self) -> None:
        await asyncio.to_thread(self._writer.close)
