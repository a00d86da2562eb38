"""LogStore on a real SQLite file with an injected clock: batching, retention, bounds."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambent.clock import ManualClock
from lambent.logs.catalog import LogCatalog
from lambent.logs.events import LogEvents
from lambent.logs.retention import DAY_MS
from lambent.logs.sink import LogEvent, LogSink
from lambent.logs.store import MAX_MESSAGE_BYTES, LogStore, clip
from lambent.settings import LogSettings

ACCOUNT = "111111111111"
GROUP = "/aws/lambda/fn"


def _store(tmp: Path, clock: ManualClock, **kwargs: Any) -> LogStore:
    settings = LogSettings(**{"flush_interval_s": 3600.0, **kwargs})
    return LogStore(tmp / "logs.db", settings, clock, background=False)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> Iterator[LogStore]:
    s = _store(tmp_path, clock)
    yield s
    s.close()


def _now_ms(clock: ManualClock) -> int:
    return int(clock.time() * 1000)


def _group(store: LogStore, name: str = GROUP) -> dict[str, Any]:
    out = LogCatalog(store).describe_groups(ACCOUNT, "us-east-1", {"logGroupNamePrefix": name})
    groups: list[dict[str, Any]] = out["logGroups"]
    assert len(groups) == 1
    return groups[0]


def _messages(store: LogStore, **params: Any) -> list[str]:
    out = LogEvents(store).filter(ACCOUNT, {"logGroupName": GROUP, **params})
    return [e["message"] for e in out["events"]]


def test_log_store_is_a_log_sink(store: LogStore) -> None:
    sink: LogSink = store
    assert sink is store


def test_emit_is_invisible_until_flush_then_in_one_batch(
    store: LogStore, clock: ManualClock
) -> None:
    now = _now_ms(clock)
    store.emit(ACCOUNT, GROUP, "s1", [LogEvent(now, "one"), LogEvent(now + 1, "two")])
    store.emit(ACCOUNT, GROUP, "s2", [LogEvent(now + 2, "three")])
    store.emit(ACCOUNT, GROUP, "s1", [LogEvent(now + 3, "four")])
    catalog = LogCatalog(store)
    assert catalog.describe_groups(ACCOUNT, "us-east-1", {})["logGroups"] == []
    store.flush()
    assert _messages(store) == ["one", "two", "three", "four"]
    group = _group(store)
    assert group["storedBytes"] == len("onetwothreefour")
    streams = catalog.describe_streams(ACCOUNT, "us-east-1", {"logGroupName": GROUP})
    s1 = streams["logStreams"][0]
    assert s1["logStreamName"] == "s1"
    assert (s1["firstEventTimestamp"], s1["lastEventTimestamp"]) == (now, now + 3)
    assert s1["lastIngestionTime"] == now


def test_time_retention_sweep(store: LogStore, clock: ManualClock) -> None:
    now = _now_ms(clock)
    store.emit(ACCOUNT, GROUP, "old", [LogEvent(now - 40 * DAY_MS, "ancient")])
    store.emit(ACCOUNT, GROUP, "new", [LogEvent(now - 2 * DAY_MS, "recent")])
    store.emit(ACCOUNT, "/other", "s", [LogEvent(now - 10 * DAY_MS, "ten days")])
    store.flush()
    assert store.sweep() == 1  # default 30 days: only "ancient" goes
    assert _messages(store) == ["recent"]
    assert _group(store)["storedBytes"] == len("recent")
    LogCatalog(store).set_retention(ACCOUNT, "/other", 7)
    assert store.sweep() == 1
    assert _group(store, "/other")["storedBytes"] == 0
    # The emptied streams go once their last activity is past retention too.
    names = [
        s["logStreamName"]
        for s in LogCatalog(store).describe_streams(ACCOUNT, "us-east-1", {"logGroupName": GROUP})[
            "logStreams"
        ]
    ]
    assert names == ["new", "old"]
    clock.advance(31 * 86400)
    store.sweep()
    streams = LogCatalog(store).describe_streams(ACCOUNT, "us-east-1", {"logGroupName": GROUP})
    assert streams["logStreams"] == []


def test_per_group_event_bound_keeps_the_newest(tmp_path: Path, clock: ManualClock) -> None:
    store = _store(tmp_path, clock, max_events_per_group=5)
    try:
        now = _now_ms(clock)
        store.emit(ACCOUNT, GROUP, "a", [LogEvent(now + i, f"a{i}") for i in range(4)])
        store.emit(ACCOUNT, GROUP, "b", [LogEvent(now + 10 + i, f"b{i}") for i in range(4)])
        store.flush()
        assert _messages(store) == ["a3", "b0", "b1", "b2", "b3"]
        assert _group(store)["storedBytes"] == 10
        stream_a = LogCatalog(store).describe_streams(
            ACCOUNT, "us-east-1", {"logGroupName": GROUP}
        )["logStreams"][0]
        assert stream_a["firstEventTimestamp"] == now + 3
    finally:
        store.close()


def test_queue_is_bounded(tmp_path: Path, clock: ManualClock) -> None:
    settings = LogSettings(flush_interval_s=3600.0)
    store = LogStore(tmp_path / "logs.db", settings, clock, background=False, max_queued_events=100)
    try:
        now = _now_ms(clock)
        for i in range(150):
            store.emit(ACCOUNT, GROUP, "s", [LogEvent(now + i, f"m{i}")])
        assert store.dropped == 50
        store.flush()
        got = _messages(store)
        assert len(got) == 100 and got[0] == "m50" and got[-1] == "m149"
    finally:
        store.close()


def test_oversized_messages_are_clipped() -> None:
    assert clip("short") == "short"
    big = "é" * MAX_MESSAGE_BYTES
    clipped = clip(big)
    assert len(clipped.encode()) <= MAX_MESSAGE_BYTES
    assert clipped == "é" * (MAX_MESSAGE_BYTES // 2)


def test_background_thread_flushes_without_being_asked(tmp_path: Path) -> None:
    clock = ManualClock()
    store = LogStore(tmp_path / "logs.db", LogSettings(flush_interval_s=0.01), clock)
    try:
        store.emit(ACCOUNT, GROUP, "s", [LogEvent(_now_ms(clock), "hello")])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not _visible(store):
            time.sleep(0.01)
        assert _messages(store) == ["hello"]
    finally:
        store.close()


def _visible(store: LogStore) -> bool:
    return bool(LogCatalog(store).describe_groups(ACCOUNT, "us-east-1", {})["logGroups"])


def test_emit_is_cheap_while_a_flush_writes(tmp_path: Path) -> None:
    """emit never waits for the disk: it only touches the in-memory queue."""
    clock = ManualClock()
    store = LogStore(
        tmp_path / "logs.db", LogSettings(flush_interval_s=3600.0), clock, background=False
    )
    try:
        now = _now_ms(clock)
        for i in range(20):
            store.emit(ACCOUNT, GROUP, f"s{i}", [LogEvent(now + j, "x" * 200) for j in range(1000)])
        flusher = threading.Thread(target=store.flush)

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
        store.flush()
        assert len(_messages(store, logStreamNames=["late"])) == 1000
    finally:
        store.close()


def test_close_flushes_what_is_queued(tmp_path: Path) -> None:
    clock = ManualClock()
    store = _store(tmp_path, clock)
    store.emit(ACCOUNT, GROUP, "s", [LogEvent(_now_ms(clock), "last words")])
    store.close()
    reopened = _store(tmp_path, clock)
    try:
        assert _messages(reopened) == ["last words"]
    finally:
        reopened.close()
