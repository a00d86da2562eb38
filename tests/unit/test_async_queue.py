"""The event queue contract, run against both implementations (SQLite and in-memory),
plus what only SQLite promises: group commit, and durability across a process kill."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from lambent.async_invoke.event import Destination, EventState, QueuedEvent, Response
from lambent.async_invoke.memory import MemoryQueue
from lambent.async_invoke.queue import EventQueue
from lambent.async_invoke.sqlite import SqliteQueue
from tests.support import REPO

T = TypeVar("T")
T0 = 1_700_000_000.0
DEST = Destination("123456789012", "arn:aws:lambda:us-east-1:123456789012:function:fn", None)
FN = DEST.function_arn
OTHER = Destination("123456789012", "arn:aws:lambda:us-east-1:123456789012:function:other")
LEASE = 960.0

QueueFactory = Callable[[Path], EventQueue]
FACTORIES: dict[str, QueueFactory] = {
    "sqlite": lambda tmp: SqliteQueue(tmp / "queue.db"),
    "memory": lambda tmp: MemoryQueue(),
}


def event(
    event_id: str, at: float = T0, payload: bytes = b"{}", dest: Destination = DEST
) -> QueuedEvent:
    return QueuedEvent(event_id, dest, payload, EventState(enqueued_at=at), available_at=at)


@asynccontextmanager
async def opened(factory: QueueFactory, tmp: Path) -> AsyncIterator[EventQueue]:
    queue = factory(tmp)
    try:
        yield queue
    finally:
        await queue.close()


def run(body: Callable[[EventQueue], Awaitable[T]], factory: QueueFactory, tmp: Path) -> T:
    async def main() -> T:
        async with opened(factory, tmp) as queue:
            return await body(queue)

    return asyncio.run(main())


@pytest.fixture(params=sorted(FACTORIES))
def factory(request: pytest.FixtureRequest) -> QueueFactory:
    return FACTORIES[str(request.param)]


def ids(events: list[QueuedEvent]) -> list[str]:
    return [e.event_id for e in events]


def test_enqueue_then_claim_returns_the_event_whole(factory: QueueFactory, tmp_path: Path) -> None:
    state = EventState(
        enqueued_at=T0,
        attempts=1,
        backoffs=2,
        trace_id="Root=1-abc",
        last_response=Response(b'{"errorMessage":"x"}', "$LATEST", "Unhandled"),
    )
    original = QueuedEvent("e1", DEST, b'{"k": "\xc3\xa9"}', state, available_at=T0)

    async def body(q: EventQueue) -> list[QueuedEvent]:
        await q.enqueue(original)
        return await q.claim(FN, T0, 10, LEASE)

    assert run(body, factory, tmp_path) == [original]


def test_claim_takes_due_events_oldest_first_up_to_limit(
    factory: QueueFactory, tmp_path: Path
) -> None:
    async def body(q: EventQueue) -> tuple[list[str], list[str], list[str]]:
        await q.enqueue(event("late", T0 + 5))
        await q.enqueue(event("b", T0 + 1))
        await q.enqueue(event("a", T0))
        await q.enqueue(event("c", T0 + 1))
        first = ids(await q.claim(FN, T0 + 1, 2, LEASE))
        second = ids(await q.claim(FN, T0 + 1, 10, LEASE))
        third = ids(await q.claim(FN, T0 + 5, 10, LEASE))
        return first, second, third

    # Same due time: acceptance order.
    assert run(body, factory, tmp_path) == (["a", "b"], ["c"], ["late"])


def test_a_claimed_event_is_not_handed_out_twice(factory: QueueFactory, tmp_path: Path) -> None:
    async def body(q: EventQueue) -> tuple[int, int]:
        await q.enqueue(event("e"))
        first = await q.claim(FN, T0, 10, LEASE)
        again = await q.claim(FN, T0 + 1, 10, LEASE)
        return len(first), len(again)

    assert run(body, factory, tmp_path) == (1, 0)


def test_complete_removes_the_event(factory: QueueFactory, tmp_path: Path) -> None:
    async def body(q: EventQueue) -> tuple[int, int, float | None]:
        await q.enqueue(event("e"))
        await q.claim(FN, T0, 1, LEASE)
        await q.complete("e")
        stats = await q.stats()
        return stats.queued, stats.claimed, await q.next_due(T0 - 1)

    assert run(body, factory, tmp_path) == (0, 0, None)


def test_reschedule_stores_state_and_due_time(factory: QueueFactory, tmp_path: Path) -> None:
    new_state = EventState(enqueued_at=T0, attempts=1, trace_id="t")

    async def body(q: EventQueue) -> tuple[list[str], list[QueuedEvent], float | None]:
        await q.enqueue(event("e", payload=b'{"keep": true}'))
        await q.claim(FN, T0, 1, LEASE)
        await q.reschedule("e", new_state, T0 + 60)
        early = ids(await q.claim(FN, T0 + 59, 10, LEASE))
        due = await q.next_due(T0 + 59)
        later = await q.claim(FN, T0 + 60, 10, LEASE)
        return early, later, due

    early, later, due = run(body, factory, tmp_path)
    assert early == []
    assert due == T0 + 60
    assert later == [QueuedEvent("e", DEST, b'{"keep": true}', new_state, T0 + 60)]


def test_release_hands_claims_back_unchanged(factory: QueueFactory, tmp_path: Path) -> None:
    async def body(q: EventQueue) -> list[QueuedEvent]:
        await q.enqueue(event("a"))
        await q.enqueue(event("b"))
        await q.claim(FN, T0, 10, LEASE)
        await q.release(["a", "b"])
        return await q.claim(FN, T0, 10, LEASE)

    assert run(body, factory, tmp_path) == [event("a"), event("b")]


def test_recover_requeues_every_claim(factory: QueueFactory, tmp_path: Path) -> None:
    async def body(q: EventQueue) -> tuple[int, int, list[str]]:
        for name in ("a", "b", "c"):
            await q.enqueue(event(name))
        await q.claim(FN, T0, 2, LEASE)
        claimed = (await q.stats()).claimed
        recovered = await q.recover()
        return claimed, recovered, ids(await q.claim(FN, T0, 10, LEASE))

    assert run(body, factory, tmp_path) == (2, 2, ["a", "b", "c"])


def test_an_expired_lease_makes_the_event_claimable(factory: QueueFactory, tmp_path: Path) -> None:
    async def body(q: EventQueue) -> tuple[list[str], float | None, list[str]]:
        await q.enqueue(event("e"))
        await q.claim(FN, T0, 1, 30.0)
        before = ids(await q.claim(FN, T0 + 29, 1, 30.0))
        due = await q.next_due(T0 + 29)
        after = ids(await q.claim(FN, T0 + 30, 1, 30.0))
        return before, due, after

    assert run(body, factory, tmp_path) == ([], T0 + 30, ["e"])


def test_enqueueing_an_id_twice_keeps_the_first(factory: QueueFactory, tmp_path: Path) -> None:
    async def body(q: EventQueue) -> list[QueuedEvent]:
        await q.enqueue(event("e", payload=b"1"))
        await q.enqueue(event("e", payload=b"2"))
        return await q.claim(FN, T0, 10, LEASE)

    assert run(body, factory, tmp_path) == [event("e", payload=b"1")]


def test_concurrent_acceptances_all_land(factory: QueueFactory, tmp_path: Path) -> None:
    async def body(q: EventQueue) -> tuple[int, set[str]]:
        await asyncio.gather(*(q.enqueue(event(f"e{i}")) for i in range(300)))
        stats = await q.stats()
        return stats.queued, set(ids(await q.claim(FN, T0, 1000, LEASE)))

    queued, claimed = run(body, factory, tmp_path)
    assert queued == 300
    assert claimed == {f"e{i}" for i in range(300)}


def test_next_due_is_the_earliest_claimable_time_after_now(
    factory: QueueFactory, tmp_path: Path
) -> None:
    async def body(q: EventQueue) -> tuple[float | None, float | None, float | None]:
        empty = await q.next_due(T0)
        await q.enqueue(event("later", T0 + 50))
        await q.enqueue(event("now", T0))
        await q.enqueue(event("due", T0 - 5))  # due already: not "later"
        await q.claim(FN, T0 - 5, 1, 10.0)  # "due" leased until T0 + 5
        return empty, await q.next_due(T0), await q.next_due(T0 + 5)

    assert run(body, factory, tmp_path) == (None, T0 + 5, T0 + 50)


def test_due_functions_counts_each_functions_due_events_oldest_first(
    factory: QueueFactory, tmp_path: Path
) -> None:
    async def body(q: EventQueue) -> list[tuple[str, int, float]]:
        for i in range(5):
            await q.enqueue(event(f"fn{i}", T0 + i))
        await q.enqueue(event("o1", T0 - 1, dest=OTHER))
        await q.enqueue(event("o2", T0 + 100, dest=OTHER))  # not due yet
        await q.claim(FN, T0, 1, LEASE)  # fn0 is running: not due
        due = await q.due_functions(T0 + 3, cap=10)
        capped = await q.due_functions(T0 + 3, cap=2)
        return [(d.function_name, d.count, d.due_at) for d in due + capped]

    assert run(body, factory, tmp_path) == [
        ("other", 1, T0 - 1),
        ("fn", 3, T0 + 1),
        ("other", 1, T0 - 1),
        ("fn", 2, T0 + 1),
    ]


def test_due_functions_include_lapsed_leases(factory: QueueFactory, tmp_path: Path) -> None:
    async def body(q: EventQueue) -> tuple[list[int], list[int], list[str]]:
        await q.enqueue(event("a"))
        await q.enqueue(event("b", T0 + 20))
        await q.claim(FN, T0, 1, 30.0)  # "a" leased until T0 + 30
        before = [d.count for d in await q.due_functions(T0 + 29, cap=10)]
        after = [d.count for d in await q.due_functions(T0 + 30, cap=10)]
        return before, after, ids(await q.claim(FN, T0 + 30, 10, LEASE))

    # The lapsed lease is handed out first: that event has waited longest.
    assert run(body, factory, tmp_path) == ([1], [2], ["a", "b"])


def test_claim_takes_only_the_named_functions_events(factory: QueueFactory, tmp_path: Path) -> None:
    async def body(q: EventQueue) -> tuple[list[str], list[str], int]:
        await q.enqueue(event("o", T0 - 10, dest=OTHER))
        await q.enqueue(event("f", T0))
        mine = ids(await q.claim(FN, T0, 10, LEASE))
        theirs = ids(await q.claim(OTHER.function_arn, T0, 10, LEASE))
        return mine, theirs, len(await q.due_functions(T0, cap=10))

    assert run(body, factory, tmp_path) == (["f"], ["o"], 0)


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


def test_sqlite_survives_reopen_and_recovers_claims(tmp_path: Path) -> None:
    async def first() -> None:
        queue = SqliteQueue(tmp_path / "queue.db")
        for name in ("a", "b", "c"):
            await queue.enqueue(event(name))
        await queue.claim(FN, T0, 2, LEASE)
        await queue.reschedule("c", EventState(enqueued_at=T0, attempts=2), T0 + 5)
        await queue.close()

    async def second() -> tuple[int, list[QueuedEvent]]:
        queue = SqliteQueue(tmp_path / "queue.db")
        try:
            recovered = await queue.recover()
            return recovered, await queue.claim(FN, T0 + 5, 10, LEASE)
        finally:
            await queue.close()

    asyncio.run(first())
    recovered, events = asyncio.run(second())
    assert recovered == 2
    assert ids(events) == ["a", "b", "c"]
    assert events[2].state.attempts == 2


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
