"""What is particular to each log store, beyond the contract (tests/contract/
test_log_store.py): the shared buffer's bound and retry, and SQLite's writer thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from lambent.clock import ManualClock
from lambent.logs.buffer import MAX_MESSAGE_BYTES, LogBuffer, clip
from lambent.logs.events import LogEvents
from lambent.logs.sink import LogEvent
from lambent.logs.store import SqliteLogStore
from lambent.settings import LogSettings

ACCOUNT = "111111111111"
GROUP = "/aws/lambda/fn"


def test_oversized_messages_are_clipped_and_nul_replaced() -> None:
    assert clip("short") == "short"
    big = "é" * MAX_MESSAGE_BYTES
    clipped = clip(big)
    assert len(clipped.encode()) <= MAX_MESSAGE_BYTES
    assert clipped == "é" * (MAX_MESSAGE_BYTES // 2)
    assert clip("a\x00b") == "a\ufffdb"


def test_a_failed_batch_goes_back_in_front_within_the_bound() -> None:
    buffer = LogBuffer(max_queued=5)
    key = (ACCOUNT, GROUP, "s")
    buffer.add(key, [LogEvent(1, "a"), LogEvent(2, "b"), LogEvent(3, "c")])
    failed = buffer.drain()
    buffer.add(key, [LogEvent(4, "d"), LogEvent(5, "e")])
    buffer.add((ACCOUNT, GROUP, "t"), [LogEvent(6, "f")])
    buffer.requeue(failed)  # 6 events, bound 5: the oldest goes
    assert buffer.queued == 5 and buffer.dropped == 1
    again = buffer.drain()
    assert [e.message for e in again[key]] == ["b", "c", "d", "e"]
    assert [e.message for e in again[(ACCOUNT, GROUP, "t")]] == ["f"]


def test_an_early_flush_is_asked_for_once_the_queue_is_large() -> None:
    asked: list[int] = []
    buffer = LogBuffer(on_early=lambda: asked.append(1))
    buffer.add((ACCOUNT, GROUP, "s"), [LogEvent(i, "x") for i in range(100)])
    assert not asked
    buffer.add((ACCOUNT, GROUP, "s"), [LogEvent(i, "x") for i in range(20_000)])
    assert asked


def test_sqlite_emit_is_cheap_while_a_flush_writes(tmp_path: Path) -> None:
    """emit never waits for the disk: it only touches the in-memory queue."""
    clock = ManualClock()
    store = SqliteLogStore(
        tmp_path / "logs.db", LogSettings(flush_interval_s=3600.0), clock, background=False
    )
    try:
        now = int(clock.time() * 1000)
        for i in range(20):
            store.emit(ACCOUNT, GROUP, f"s{i}", [LogEvent(now + j, "x" * 200) for j in range(1000)])
        flusher = threading.Thread(target=store.flush_now)

        def late() -> None:
            for i in range(1000):
                store.emit(ACCOUNT, GROUP, "late", [LogEvent(now + i, "y")])

        emitter = threading.Thread(target=late)
        with store.writing():  # hold the write lock: a flush now blocks on it
            flusher.start()
            emitter.start()
            # An emit that waited for the blocked flush would never finish while the lock
            # is held (the bound only catches that hang).
            emitter.join(timeout=30)
            assert not emitter.is_alive(), "emit waited for the disk"
        flusher.join()
        store.flush_now()
        params = {"logGroupName": GROUP, "logStreamNames": ["late"]}
        out = asyncio.run(LogEvents(store).filter(ACCOUNT, params))
        assert len(out["events"]) == 1000
    finally:
        store.close_now()
