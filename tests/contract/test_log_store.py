"""The log store contract: SQLite and PostgreSQL answer the Logs API identically.

Each test runs once per backend (the `logs` fixture), through the same
LogCatalog / LogEvents the Logs API uses, with an injected clock. Stores opened on one
place model nodes: two that write, a third that reads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lambent.errors import ClientError
from lambent.logs.catalog import LogCatalog
from lambent.logs.interface import LogStore
from lambent.logs.retention import DAY_MS
from lambent.logs.sink import LogEvent, LogSink
from tests.contract.logstores import LOG_BACKENDS, Opener

ACCOUNT = "111111111111"
REGION = "us-east-1"
GROUP = "/aws/lambda/fn"
# Longer than any store call can take on a busy machine: only a hang hits it.
HANG_S = 30.0


@pytest.fixture(params=LOG_BACKENDS)
async def logs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    if request.param == "sqlite":
        opener = Opener("sqlite", tmp_path / "logs.db")
    else:
        opener = Opener("postgresql", str(request.getfixturevalue("pg_url")))
    yield opener
    for store in opener.opened:
        await store.close()


def _now(logs: Opener) -> int:
    return int(logs.clock.time() * 1000)


def _events(store: LogStore) -> Any:
    from lambent.logs.events import LogEvents

    return LogEvents(store)


async def _messages(store: LogStore, **params: Any) -> list[str]:
    out = await _events(store).filter(ACCOUNT, {"logGroupName": GROUP, **params})
    return [e["message"] for e in out["events"]]


async def _group(store: LogStore, name: str = GROUP) -> dict[str, Any]:
    out = await LogCatalog(store).describe_groups(ACCOUNT, REGION, {"logGroupNamePrefix": name})
    groups: list[dict[str, Any]] = out["logGroups"]
    assert len(groups) == 1
    return groups[0]


async def _stream_names(store: LogStore, **params: Any) -> list[str]:
    out = await LogCatalog(store).describe_streams(
        ACCOUNT, REGION, {"logGroupName": GROUP, **params}
    )
    return [s["logStreamName"] for s in out["logStreams"]]


async def test_a_log_store_is_a_log_sink(logs: Opener) -> None:
    store = await logs()
    sink: LogSink = store
    assert sink is store


async def test_emit_is_invisible_until_flush_then_reads_back_in_order(logs: Opener) -> None:
    store = await logs()
    now = _now(logs)
    store.emit(ACCOUNT, GROUP, "s1", [LogEvent(now, "one"), LogEvent(now + 1, "two")])
    store.emit(ACCOUNT, GROUP, "s2", [LogEvent(now + 2, "three")])
    store.emit(ACCOUNT, GROUP, "s1", [LogEvent(now + 3, "four")])
    catalog = LogCatalog(store)
    assert (await catalog.describe_groups(ACCOUNT, REGION, {}))["logGroups"] == []
    assert store.queued == 4
    await store.flush()
    assert store.queued == 0
    assert await _messages(store) == ["one", "two", "three", "four"]
    group = await _group(store)
    assert group["storedBytes"] == len("onetwothreefour")
    assert group["retentionInDays"] == 30
    streams = await catalog.describe_streams(ACCOUNT, REGION, {"logGroupName": GROUP})
    s1 = streams["logStreams"][0]
    assert s1["logStreamName"] == "s1"
    assert (s1["firstEventTimestamp"], s1["lastEventTimestamp"]) == (now, now + 3)
    assert s1["lastIngestionTime"] == now
    assert s1["storedBytes"] == len("onetwofour")
    got = await _events(store).get(
        ACCOUNT, {"logGroupName": GROUP, "logStreamName": "s1", "startFromHead": True}
    )
    assert [e["message"] for e in got["events"]] == ["one", "two", "four"]


async def test_get_log_events_pages_both_ways_with_tokens(logs: Opener) -> None:
    store = await logs()
    now = _now(logs)
    store.emit(ACCOUNT, GROUP, "s", [LogEvent(now + i, f"m{i}") for i in range(7)])
    await store.flush()
    events = _events(store)
    base = {"logGroupName": GROUP, "logStreamName": "s", "limit": 3}
    page = await events.get(ACCOUNT, {**base, "startFromHead": True})
    seen = [e["message"] for e in page["events"]]
    while True:
        nxt = await events.get(ACCOUNT, {**base, "nextToken": page["nextForwardToken"]})
        if not nxt["events"]:
            assert nxt["nextForwardToken"] == page["nextForwardToken"]
            break
        seen += [e["message"] for e in nxt["events"]]
        page = nxt
    assert seen == [f"m{i}" for i in range(7)]
    tail = await events.get(ACCOUNT, base)  # the newest, as AWS starts from the tail
    assert [e["message"] for e in tail["events"]] == ["m4", "m5", "m6"]
    back = await events.get(ACCOUNT, {**base, "nextToken": tail["nextBackwardToken"]})
    assert [e["message"] for e in back["events"]] == ["m1", "m2", "m3"]
    window = await events.get(ACCOUNT, {**base, "startTime": now + 2, "endTime": now + 4})
    assert [e["message"] for e in window["events"]] == ["m2", "m3"]


async def test_stream_listing_orders_and_pages(logs: Opener) -> None:
    store = await logs()
    now = _now(logs)
    # Bytewise order ("B" < "_" < "a"), whatever the database's collation says.
    for i, name in enumerate(["a-late", "B-first", "_mid", "a-early"]):
        store.emit(ACCOUNT, GROUP, name, [LogEvent(now + [9, 1, 5, 3][i], name)])
    await store.flush()
    assert await _stream_names(store) == ["B-first", "_mid", "a-early", "a-late"]
    assert await _stream_names(store, logStreamNamePrefix="a-") == ["a-early", "a-late"]
    by_last = await _stream_names(store, orderBy="LastEventTime", descending=True)
    assert by_last == ["a-late", "_mid", "a-early", "B-first"]
    catalog = LogCatalog(store)
    for params in ({}, {"orderBy": "LastEventTime", "descending": True}):
        names: list[str] = []
        token = None
        while True:
            req = {"logGroupName": GROUP, "limit": 1, **params}
            if token:
                req["nextToken"] = token
            out = await catalog.describe_streams(ACCOUNT, REGION, req)
            names += [s["logStreamName"] for s in out["logStreams"]]
            token = out.get("nextToken")
            if token is None:
                break
        assert names == await _stream_names(store, **params)
    with pytest.raises(ClientError) as bad:
        await catalog.describe_streams(
            ACCOUNT,
            REGION,
            {"logGroupName": GROUP, "orderBy": "LastEventTime", "nextToken": "WyJ4Il0"},
        )
    assert bad.value.code == "InvalidParameterException"


async def test_group_listing_orders_pages_and_matches(logs: Opener) -> None:
    store = await logs()
    catalog = LogCatalog(store)
    for name in ["/x/b", "/x/B", "/x/_", "/y/Alpha", "/x/a"]:
        await catalog.create_group(ACCOUNT, name)
    await catalog.create_group("222222222222", "/x/other-account")
    names: list[str] = []
    token = None
    while True:
        req: dict[str, Any] = {"limit": 2}
        if token:
            req["nextToken"] = token
        out = await catalog.describe_groups(ACCOUNT, REGION, req)
        names += [g["logGroupName"] for g in out["logGroups"]]
        token = out.get("nextToken")
        if token is None:
            break
    assert names == ["/x/B", "/x/_", "/x/a", "/x/b", "/y/Alpha"]
    prefixed = await catalog.describe_groups(ACCOUNT, REGION, {"logGroupNamePrefix": "/x/"})
    assert len(prefixed["logGroups"]) == 4
    matched = await catalog.describe_groups(ACCOUNT, REGION, {"logGroupNamePattern": "ALPH"})
    assert [g["logGroupName"] for g in matched["logGroups"]] == ["/y/Alpha"]
    with pytest.raises(ClientError) as exists:
        await catalog.create_group(ACCOUNT, "/x/a")
    assert exists.value.code == "ResourceAlreadyExistsException"
    await catalog.delete_group(ACCOUNT, "/x/a")
    with pytest.raises(ClientError) as missing:
        await catalog.delete_group(ACCOUNT, "/x/a")
    assert missing.value.code == "ResourceNotFoundException"


async def test_filter_patterns_and_stream_selection(logs: Opener) -> None:
    store = await logs()
    now = _now(logs)
    lines = [
        ("web", "INFO started"),
        ("web", "ERROR Exception: boom"),
        ("worker", 'ERROR "Task timed out" after 3 s'),
        ("worker", '{"level": "ERROR", "ms": 120}'),
        ("worker", "WARN slow 250 ms"),
        ("web", "ERROR Exiting"),
    ]
    for i, (stream, msg) in enumerate(lines):
        store.emit(ACCOUNT, GROUP, stream, [LogEvent(now + i, msg)])
    await store.flush()
    assert await _messages(store, filterPattern="ERROR -Exiting") == [
        "ERROR Exception: boom",
        'ERROR "Task timed out" after 3 s',
        '{"level": "ERROR", "ms": 120}',
    ]
    assert await _messages(store, filterPattern='"Task timed out"') == [lines[2][1]]
    assert await _messages(store, filterPattern="?WARN ?INFO") == [
        "INFO started",
        "WARN slow 250 ms",
    ]
    assert await _messages(store, filterPattern="%[0-9]{3} ms%") == ["WARN slow 250 ms"]
    assert await _messages(store, filterPattern='{ $.level = "ERROR" }') == [lines[3][1]]
    assert await _messages(store, logStreamNames=["worker"], filterPattern="ERROR") == [
        lines[2][1],
        lines[3][1],
    ]
    assert await _messages(store, logStreamNamePrefix="we", filterPattern="ERROR") == [
        "ERROR Exception: boom",
        "ERROR Exiting",
    ]
    assert await _messages(store, logStreamNames=["nope"]) == []
    assert await _messages(store, startTime=now + 1, endTime=now + 2) == [
        lines[1][1],
        lines[2][1],
    ]
    out = await _events(store).filter(ACCOUNT, {"logGroupName": GROUP, "limit": 1})
    assert out["events"][0]["logStreamName"] == "web"


async def test_filter_pages_with_tokens_to_the_end(logs: Opener) -> None:
    store = await logs()
    now = _now(logs)
    for s in range(3):
        store.emit(ACCOUNT, GROUP, f"s{s}", [LogEvent(now + i, f"s{s}-{i}") for i in range(5)])
    await store.flush()
    events = _events(store)
    seen: list[dict[str, Any]] = []
    token = None
    while True:
        req: dict[str, Any] = {"logGroupName": GROUP, "limit": 4}
        if token:
            req["nextToken"] = token
        out = await events.filter(ACCOUNT, req)
        seen += out["events"]
        token = out.get("nextToken")
        if token is None:
            break
    assert len(seen) == 15
    assert [e["timestamp"] for e in seen] == sorted(e["timestamp"] for e in seen)
    assert len({e["eventId"] for e in seen}) == 15
    assert seen == (await events.filter(ACCOUNT, {"logGroupName": GROUP}))["events"]
    with pytest.raises(ClientError) as bad:
        await events.filter(ACCOUNT, {"logGroupName": GROUP, "nextToken": "garbage!"})
    assert bad.value.code == "InvalidParameterException"


async def test_put_log_events_and_missing_names(logs: Opener) -> None:
    store = await logs()
    catalog, events = LogCatalog(store), _events(store)
    now = _now(logs)
    with pytest.raises(ClientError) as no_group:
        await catalog.create_stream(ACCOUNT, GROUP, "s")
    assert no_group.value.code == "ResourceNotFoundException"
    await catalog.create_group(ACCOUNT, GROUP)
    await catalog.create_stream(ACCOUNT, GROUP, "s")
    with pytest.raises(ClientError) as twice:
        await catalog.create_stream(ACCOUNT, GROUP, "s")
    assert twice.value.code == "ResourceAlreadyExistsException"
    put = {"logGroupName": GROUP, "logStreamName": "s"}
    with pytest.raises(ClientError) as no_stream:
        await events.put(ACCOUNT, {**put, "logStreamName": "t", "logEvents": []})
    assert no_stream.value.code == "ResourceNotFoundException"
    await catalog.set_retention(ACCOUNT, GROUP, 1)
    expired = [{"timestamp": now - DAY_MS - 1000, "message": "expired"}]
    out = await events.put(ACCOUNT, {**put, "logEvents": expired})
    assert out["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}
    batch = [
        {"timestamp": now, "message": "kept\x00nul"},
        {"timestamp": now + 3 * 3600 * 1000, "message": "too new"},
    ]
    out = await events.put(ACCOUNT, {**put, "logEvents": batch})
    assert out["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    assert await _messages(store) == ["kept\ufffdnul"]
    assert (await _group(store))["retentionInDays"] == 1
    await catalog.delete_stream(ACCOUNT, GROUP, "s")
    with pytest.raises(ClientError):
        await catalog.delete_stream(ACCOUNT, GROUP, "s")
    assert (await _group(store))["storedBytes"] == 0


async def test_time_retention_sweep(logs: Opener) -> None:
    store = await logs()
    now = _now(logs)
    store.emit(ACCOUNT, GROUP, "old", [LogEvent(now - 40 * DAY_MS, "ancient")])
    store.emit(ACCOUNT, GROUP, "new", [LogEvent(now - 2 * DAY_MS, "recent")])
    store.emit(ACCOUNT, "/other", "s", [LogEvent(now - 10 * DAY_MS, "ten days")])
    await store.flush()
    assert await store.sweep() == 1  # default 30 days: only "ancient" goes
    assert await _messages(store) == ["recent"]
    assert (await _group(store))["storedBytes"] == len("recent")
    await LogCatalog(store).set_retention(ACCOUNT, "/other", 7)
    assert await store.sweep() == 1
    assert (await _group(store, "/other"))["storedBytes"] == 0
    # The emptied streams go once their last activity is past retention too.
    assert await _stream_names(store) == ["new", "old"]
    logs.clock.advance(31 * 86400)
    await store.sweep()
    assert await _stream_names(store) == []


async def test_per_group_event_bound_keeps_the_newest(logs: Opener) -> None:
    store = await logs(max_events_per_group=5)
    now = _now(logs)
    store.emit(ACCOUNT, GROUP, "a", [LogEvent(now + i, f"a{i}") for i in range(4)])
    store.emit(ACCOUNT, GROUP, "b", [LogEvent(now + 10 + i, f"b{i}") for i in range(4)])
    await store.flush()
    assert await _messages(store) == ["a3", "b0", "b1", "b2", "b3"]
    assert (await _group(store))["storedBytes"] == 10
    out = await LogCatalog(store).describe_streams(ACCOUNT, REGION, {"logGroupName": GROUP})
    assert out["logStreams"][0]["firstEventTimestamp"] == now + 3


async def test_queue_is_bounded(logs: Opener) -> None:
    store = await logs(max_queued_events=100)
    now = _now(logs)
    for i in range(150):
        store.emit(ACCOUNT, GROUP, "s", [LogEvent(now + i, f"m{i}")])
    assert store.dropped == 50
    await store.flush()
    got = await _messages(store)
    assert len(got) == 100 and got[0] == "m50" and got[-1] == "m149"


async def test_close_flushes_what_is_queued(logs: Opener) -> None:
    store = await logs()
    store.emit(ACCOUNT, GROUP, "s", [LogEvent(_now(logs), "last words")])
    await store.close()
    reopened = await logs()
    assert await _messages(reopened) == ["last words"]


async def test_the_background_writer_flushes_without_being_asked(logs: Opener) -> None:
    store = await logs(background=True, flush_interval_s=0.01)
    store.emit(ACCOUNT, GROUP, "s", [LogEvent(_now(logs), "hello")])
    deadline = time.monotonic() + HANG_S
    while not (await LogCatalog(store).describe_groups(ACCOUNT, REGION, {}))["logGroups"]:
        assert time.monotonic() < deadline, "the background writer never flushed"
        await asyncio.sleep(0.01)
    assert await _messages(store) == ["hello"]


async def test_two_writers_into_one_group_are_both_seen_by_a_third_reader(
    logs: Opener,
) -> None:
    node_a, node_b, reader = await logs(), await logs(), await logs()
    now = _now(logs)
    for round_ in range(3):
        node_a.emit(ACCOUNT, GROUP, "env-a", [LogEvent(now + 2 * round_, f"a{round_}")])
        node_b.emit(ACCOUNT, GROUP, "env-b", [LogEvent(now + 2 * round_ + 1, f"b{round_}")])
        # Both nodes create the group and write into it at the same time.
        await asyncio.wait_for(asyncio.gather(node_a.flush(), node_b.flush()), HANG_S)
    assert await _messages(reader) == ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert await _stream_names(reader) == ["env-a", "env-b"]
    group = await _group(reader)
    assert group["storedBytes"] == 12


async def test_a_group_deleted_by_one_node_is_made_again_by_another_that_writes(
    logs: Opener,
) -> None:
    if logs.kind == "sqlite":
        pytest.skip("one server writes a SQLite log file; its ids are never stale")
    node_a, node_b = await logs(), await logs()
    now = _now(logs)
    node_a.emit(ACCOUNT, GROUP, "env-a", [LogEvent(now, "before")])
    await node_a.flush()  # node_a now has the group's and stream's ids cached
    await LogCatalog(node_b).delete_group(ACCOUNT, GROUP)
    node_a.emit(ACCOUNT, GROUP, "env-a", [LogEvent(now + 10, "after")])
    await node_a.flush()
    assert await _messages(node_b) == ["after"]
    assert await _stream_names(node_b) == ["env-a"]
    await LogCatalog(node_b).delete_stream(ACCOUNT, GROUP, "env-a")
    node_a.emit(ACCOUNT, GROUP, "env-a", [LogEvent(now + 20, "again")])
    await node_a.flush()
    assert await _messages(node_b) == ["again"]
    assert (await _group(node_b))["storedBytes"] == len("again")


async def test_sweeps_on_two_nodes_keep_the_counters_right(logs: Opener) -> None:
    node_a, node_b = await logs(max_events_per_group=3), await logs(max_events_per_group=3)
    now = _now(logs)
    node_a.emit(ACCOUNT, GROUP, "a", [LogEvent(now - 40 * DAY_MS + i, f"old{i}") for i in range(2)])
    node_a.emit(ACCOUNT, GROUP, "a", [LogEvent(now + i, f"new{i}") for i in range(2)])
    node_b.emit(ACCOUNT, GROUP, "b", [LogEvent(now + 5 + i, f"b{i}") for i in range(2)])
    await node_a.flush()
    await node_b.flush()
    await asyncio.wait_for(asyncio.gather(node_a.sweep(), node_b.sweep()), HANG_S)
    assert await _messages(node_b) == ["new1", "b0", "b1"]
    assert (await _group(node_a))["storedBytes"] == len("new1b0b1")


async def test_a_batch_that_fails_is_written_once_the_database_takes_it(logs: Opener) -> None:
    if logs.kind == "sqlite":
        pytest.skip("the local file does not go away and come back")
    import psycopg

    store = await logs()
    now = _now(logs)
    store.emit(ACCOUNT, GROUP, "s", [LogEvent(now, "first")])
    await store.flush()
    assert isinstance(logs.where, str)
    with psycopg.connect(logs.where, autocommit=True) as admin:
        admin.execute("ALTER TABLE logs_events RENAME TO logs_events_away")
        try:
            store.emit(ACCOUNT, GROUP, "s", [LogEvent(now + 1, "during")])
            with pytest.raises(psycopg.Error):
                await store.flush()
            assert store.queued == 1  # back in the buffer
            store.emit(ACCOUNT, GROUP, "s", [LogEvent(now + 2, "after")])
        finally:
            admin.execute("ALTER TABLE logs_events_away RENAME TO logs_events")
    await store.flush()
    assert await _messages(store) == ["first", "during", "after"]
    assert (await _group(store))["storedBytes"] == len("firstduringafter")
    assert store.dropped == 0
