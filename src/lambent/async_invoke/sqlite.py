"""The SQLite event queue: its own file (`DATA/queue.db`), WAL, `synchronous=FULL`.

Every write goes through one group-commit writer (see group_commit.py), so an acceptance
is on disk before its 202, and concurrent acceptances share fsyncs. The payload is written
once; retries update only the small state column.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from lambent.async_invoke.event import Destination, EventState, QueuedEvent
from lambent.async_invoke.group_commit import GroupCommitWriter
from lambent.async_invoke.queue import QueueStats

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    destination TEXT NOT NULL,
    payload BLOB NOT NULL,
    state TEXT NOT NULL,
    available_at REAL NOT NULL,
    claimed_until REAL
);
CREATE INDEX IF NOT EXISTS events_due ON events (available_at, seq)
    WHERE claimed_until IS NULL;
CREATE INDEX IF NOT EXISTS events_claimed ON events (claimed_until)
    WHERE claimed_until IS NOT NULL;
"""

COLUMNS = "event_id, destination, payload, state, available_at"


def _setup(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


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
        )

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(f"INSERT OR IGNORE INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?)", row)

        await self._writer.run(work)

    async def claim(self, now: float, limit: int, lease_s: float) -> list[QueuedEvent]:
        if limit <= 0:
            return []

        def work(conn: sqlite3.Connection) -> list[QueuedEvent]:
            # Expired leases first: those events have waited longest.
            rows = conn.execute(
                f"SELECT seq, {COLUMNS} FROM events WHERE claimed_until IS NOT NULL "
                "AND claimed_until <= ? ORDER BY claimed_until LIMIT ?",
                (now, limit),
            ).fetchall()
            rows += conn.execute(
                f"SELECT seq, {COLUMNS} FROM events WHERE claimed_until IS NULL "
                "AND available_at <= ? ORDER BY available_at, seq LIMIT ?",
                (now, limit - len(rows)),
            ).fetchall()
            conn.executemany(
                "UPDATE events SET claimed_until = ? WHERE seq = ?",
                [(now + lease_s, row[0]) for row in rows],
            )
            return [_event(row[1:]) for row in rows]

        return await self._writer.run(work)

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

    async def next_due(self) -> float | None:
        def work(conn: sqlite3.Connection) -> float | None:
            due = conn.execute(
                "SELECT MIN(available_at) FROM events WHERE claimed_until IS NULL"
            ).fetchone()[0]
            lease = conn.execute(
                "SELECT MIN(claimed_until) FROM events WHERE claimed_until IS NOT NULL"
            ).fetchone()[0]
            times = [float(t) for t in (due, lease) if t is not None]
            return min(times, default=None)

        return await self._writer.run(work)

    async def stats(self) -> QueueStats:
        def work(conn: sqlite3.Connection) -> tuple[int, int]:
            row = conn.execute("SELECT COUNT(*), COUNT(claimed_until) FROM events").fetchone()
            return int(row[0]), int(row[1])

        total, claimed = await self._writer.run(work)
        return QueueStats(
            queued=total - claimed,
            claimed=claimed,
            commits=self._writer.commits,
            operations=self._writer.operations,
        )

    async def close(self) -> None:
        await asyncio.to_thread(self._writer.close)
