"""What only the SQLite event queue promises: group commit over one file, WAL with full
sync, the upgrade of an old file, and durability across a process kill. The contract every
queue keeps is tests/contract/test_event_queue.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from lambent.async_invoke.event import Destination, EventState, QueuedEvent
from lambent.async_invoke.sqlite import SqliteQueue
from tests.support import REPO

T0 = 1_700_000_000.0
DEST = Destination("123456789012", "arn:aws:lambda:us-east-1:123456789012:function:fn", None)
FN = DEST.function_arn
OTHER = Destination("123456789012", "arn:aws:lambda:us-east-1:123456789012:function:other")
LEASE = 960.0


def event(
    event_id: str, at: float = T0, payload: bytes = b"{}", dest: Destination = DEST
) -> QueuedEvent:
    return QueuedEvent(event_id, dest, payload, EventState(enqueued_at=at), available_at=at)


def ids(events: list[QueuedEvent]) -> list[str]:
    return [e.event_id for e in events]


# -- SQLite only ------------------------------------------------------------------------


def test_sqlite_group_commit_shares_fsyncs(tmp_path: Path) -> None:
    async def main() -> tuple[int, int]:
        queue = SqliteQueue(tmp_path / "queue.db")
        try:
            before = (await queue.stats()).commits
            await asyncio.gather(*(queue.enqueue(event(f"e{i}")) for i in range(200)))
            after = await queue.stats()
            return after.commits - before, after.queued
        finally:
            await queue.close()

    commits, queued = asyncio.run(main())
    assert queued == 200
    # 200 acceptances submitted together: the writer batches whatever waits while it
    # commits, so a handful of transactions carry them all.
    assert commits <= 20, commits


def test_sqlite_file_is_wal_with_full_sync(tmp_path: Path) -> None:
    async def main() -> tuple[str, int]:
        queue = SqliteQueue(tmp_path / "queue.db")
        try:
            return await queue._writer.run(
                lambda c: (
                    str(c.execute("PRAGMA journal_mode").fetchone()[0]),
                    int(c.execute("PRAGMA synchronous").fetchone()[0]),
                )
            )
        finally:
            await queue.close()

    assert asyncio.run(main()) == ("wal", 2)  # 2 = FULL


# The queue file as the first release wrote it: no per-function column.
OLD_SCHEMA = """
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    destination TEXT NOT NULL,
    payload BLOB NOT NULL,
    state TEXT NOT NULL,
    available_at REAL NOT NULL,
    claimed_until REAL
);
CREATE INDEX events_due ON events (available_at, seq) WHERE claimed_until IS NULL;
CREATE INDEX events_claimed ON events (claimed_until) WHERE claimed_until IS NOT NULL;
"""


def test_sqlite_file_from_before_per_function_claims_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(OLD_SCHEMA)
        for name, dest in (("a", DEST), ("o", OTHER)):
            db.execute(
                "INSERT INTO events (event_id, destination, payload, state, available_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, dest.to_json(), b"{}", EventState(enqueued_at=T0).to_json(), T0),
            )
        db.commit()

    async def main() -> tuple[list[str], list[QueuedEvent]]:
        queue = SqliteQueue(path)
        try:
            due = [d.function_name for d in await queue.due_functions(T0, cap=10)]
            return due, await queue.claim(FN, T0, 10, LEASE)
        finally:
            await queue.close()

    due, claimed = asyncio.run(main())
    assert due == ["fn", "other"]
    assert claimed == [event("a")]


KILLED_WRITER = """
import asyncio, sys
from pathlib import Path
from lambent.async_invoke.event import Destination, EventState, QueuedEvent
from lambent.async_invoke.sqlite import SqliteQueue

async def main():
    queue = SqliteQueue(Path(sys.argv[1]))
    dest = Destination("123456789012", "arn:aws:lambda:us-east-1:123456789012:function:fn")
    n = 0
    async def one(i):
        await queue.enqueue(QueuedEvent(f"e{i}", dest, b"{}", EventState(1.0), 1.0))
        print(f"e{i}", flush=True)  # acknowledged: the caller would now get its 202
    while True:
        await asyncio.gather(*(one(n + k) for k in range(20)))
        n += 20

asyncio.run(main())
"""


def test_sqlite_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    """Every event whose enqueue returned before the process was killed is in the file."""
    path = tmp_path / "queue.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_WRITER), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert proc.stdout is not None
    acknowledged: list[str] = []
    for line in proc.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) >= 500:
            break
    proc.send_signal(signal.SIGKILL)
    rest = proc.stdout.read()
    proc.wait(timeout=10)
    acknowledged += [line for line in rest.splitlines() if line]

    async def stored() -> set[str]:
        queue = SqliteQueue(path)
        try:
            return set(ids(await queue.claim(FN, 2.0, 1_000_000, LEASE)))
        finally:
            await queue.close()

    found = asyncio.run(stored())
    assert set(acknowledged) <= found
