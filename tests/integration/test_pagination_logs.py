"""The CloudWatch Logs API's pages (nextToken, GetLogEvents' forward and backward tokens),
walked through boto3 against a real server with random names, timestamps that tie, and
random limits: each item once, in order, and the walk ends (issue 8 §1.1)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.integration.paging_support import CHEAP, flat, fresh, full_pages, walk
from tests.support import ServerProcess

NAME = st.lists(
    st.sampled_from(["a", "B", "-", "_", "/", ".", "#", "1", "10", "2"]), min_size=1, max_size=5
).map("".join)
# A few distinct timestamps, so many events and streams tie on them.
OFFSETS = st.integers(0, 3)


@pytest.fixture(scope="module")
def logs(server: ServerProcess) -> Any:
    return server.client("logs")


def base_ms() -> int:
    return int(time.time() * 1000) - 60_000


@CHEAP
@given(names=st.sets(NAME, min_size=1, max_size=12), size=st.integers(1, 15))
def test_describe_log_groups(logs: Any, names: set[str], size: int) -> None:
    """By name, within a name prefix."""
    prefix = f"/{fresh()}"
    for name in names:
        logs.create_log_group(logGroupName=prefix + name)
    paginator = logs.get_paginator("describe_log_groups")
    pages = walk(paginator, lambda r: r["logGroups"], size, logGroupNamePrefix=prefix)
    full_pages(pages, size)
    assert [g["logGroupName"] for g in flat(pages)] == sorted(prefix + n for n in names)


@CHEAP
@given(
    streams=st.dictionaries(NAME, st.one_of(st.none(), OFFSETS), min_size=1, max_size=12),
    size=st.integers(1, 15),
    by_last_event=st.booleans(),
    descending=st.booleans(),
)
def test_describe_log_streams(
    logs: Any,
    streams: dict[str, int | None],
    size: int,
    by_last_event: bool,
    descending: bool,
) -> None:
    """By name, or by last event time (ties by name), either way round."""
    group = f"/{fresh()}"
    logs.create_log_group(logGroupName=group)
    base = base_ms()
    for name, offset in streams.items():
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        if offset is not None:
            events = [{"timestamp": base + offset, "message": name}]
            logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=events)
    order = "LastEventTime" if by_last_event else "LogStreamName"
    pages = walk(
        logs.get_paginator("describe_log_streams"),
        lambda r: r["logStreams"],
        size,
        logGroupName=group,
        orderBy=order,
        descending=descending,
    )
    full_pages(pages, size)

    def key(name: str) -> tuple[int, str]:
        offset = streams[name]
        return ((0 if offset is None else base + offset) if by_last_event else 0, name)

    expected = sorted(streams, key=key, reverse=descending)
    assert [s["logStreamName"] for s in flat(pages)] == expected


def put_events(logs: Any, group: str, batches: list[tuple[str, list[int]]]) -> list[str]:
    """One PutLogEvents per batch (stream, timestamp offsets); returns the messages in the
    order Logs orders events: by timestamp, then by when they were put."""
    base = base_ms()
    put: list[tuple[int, int, str]] = []
    for stream, offsets in batches:
        events = []
        for offset in sorted(offsets):
            message = f"m{len(put)} {'odd' if len(put) % 2 else 'even'}"
            put.append((base + offset, len(put), message))
            events.append({"timestamp": base + offset, "message": message})
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    return [message for _, _, message in sorted(put)]


BATCHES = st.lists(
    st.tuples(st.sampled_from(["s-1", "s_1", "s"]), st.lists(OFFSETS, min_size=1, max_size=6)),
    min_size=1,
    max_size=6,
)


@CHEAP
@given(batches=BATCHES, size=st.integers(1, 12), odd_only=st.booleans())
def test_filter_log_events(
    logs: Any, batches: list[tuple[str, list[int]]], size: int, odd_only: bool
) -> None:
    """Events of every stream by (timestamp, arrival), with or without a filter pattern."""
    group = f"/{fresh()}"
    logs.create_log_group(logGroupName=group)
    for stream in ("s-1", "s_1", "s"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    expected = put_events(logs, group, batches)
    params: dict[str, Any] = {"logGroupName": group}
    if odd_only:
        params["filterPattern"] = "odd"
        expected = [m for m in expected if m.endswith(" odd")]
    pages = walk(logs.get_paginator("filter_log_events"), lambda r: r["events"], size, **params)
    assert [e["message"] for e in flat(pages)] == expected


@CHEAP
@given(offsets=st.lists(OFFSETS, min_size=0, max_size=25), size=st.integers(1, 12))
def test_get_log_events(logs: Any, offsets: list[int], size: int) -> None:
    """Forward from the head with nextForwardToken, and backward from the tail with
    nextBackwardToken, until the token comes back unchanged (AWS's end of a stream)."""
    group = f"/{fresh()}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    expected = put_events(logs, group, [("s", offsets)]) if offsets else []
    for forward in (True, False):
        pages: list[list[str]] = []
        params: dict[str, Any] = {"startFromHead": forward}
        for _ in range(len(expected) + 3):
            out = logs.get_log_events(logGroupName=group, logStreamName="s", limit=size, **params)
            assert len(out["events"]) <= size
            pages.append([e["message"] for e in out["events"]])
            token = out["nextForwardToken" if forward else "nextBackwardToken"]
            if token == params.get("nextToken"):
                break
            params = {"nextToken": token}
        else:
            raise AssertionError(f"the walk did not end: {pages}")
        seen = flat(pages) if forward else flat(pages[::-1])
        assert seen == expected
