"""FilterLogEvents: patterns, stream selection, tokens, `logs tail --follow`'s polling,
the aws CLI v1, and account isolation, against a real `lambent serve`."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import REPO, ServerProcess, create_account

GROUP = "/aws/lambda/filtered"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _put(logs: Any, group: str, stream: str, events: list[tuple[int, str]]) -> None:
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": ts, "message": msg} for ts, msg in events],
    )


@pytest.fixture(scope="module")
def base(server: ServerProcess) -> int:
    """Two streams of interleaved events in GROUP; returns the first timestamp."""
    logs: Any = server.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    start = _now_ms() - 600_000
    lines = {
        "2024/05/01/[$LATEST]aaaa": [
            "START RequestId: 1",
            "ERROR something broke",
            '{"level": "ERROR", "latency": 250, "user": {"id": "u-1"}}',
            "END RequestId: 1",
        ],
        "2024/05/01/[$LATEST]bbbb": [
            "START RequestId: 2",
            "WARN disk nearly full",
            '{"level": "INFO", "latency": 20, "user": {"id": "u-2"}}',
            "Task timed out after 3.00 seconds",
        ],
    }
    for offset, (stream, messages) in enumerate(lines.items()):
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        _put(logs, GROUP, stream, [(start + 10 * i + offset, m) for i, m in enumerate(messages)])
    return start


def _messages(logs: Any, **kwargs: Any) -> list[str]:
    out = logs.filter_log_events(logGroupName=GROUP, **kwargs)
    return [e["message"] for e in out["events"]]


def test_patterns(server: ServerProcess, base: int) -> None:
    logs: Any = server.client("logs")
    assert len(_messages(logs)) == 8
    assert _messages(logs, filterPattern="ERROR") == [
        "ERROR something broke",
        '{"level": "ERROR", "latency": 250, "user": {"id": "u-1"}}',
    ]
    assert _messages(logs, filterPattern="?WARN ?broke") == [
        "ERROR something broke",
        "WARN disk nearly full",
    ]
    assert _messages(logs, filterPattern='"timed out"') == ["Task timed out after 3.00 seconds"]
    assert _messages(logs, filterPattern="RequestId -END") == [
        "START RequestId: 1",
        "START RequestId: 2",
    ]
    assert _messages(logs, filterPattern="error") == []  # case-sensitive, as AWS
    assert _messages(logs, filterPattern='{ $.latency > 100 && $.user.id = "u-*" }') == [
        '{"level": "ERROR", "latency": 250, "user": {"id": "u-1"}}'
    ]
    with pytest.raises(ClientError) as err:
        logs.filter_log_events(logGroupName=GROUP, filterPattern="{ $.x = }")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"


def test_event_fields_and_stream_selection(server: ServerProcess, base: int) -> None:
    logs: Any = server.client("logs")
    out = logs.filter_log_events(
        logGroupName=GROUP, logStreamNames=["2024/05/01/[$LATEST]bbbb"], startTime=base + 11
    )
    events = out["events"]
    assert events[0]["message"] == "WARN disk nearly full"
    first = events[0]
    assert first["logStreamName"] == "2024/05/01/[$LATEST]bbbb"
    assert first["timestamp"] == base + 11 and first["ingestionTime"] >= first["timestamp"]
    assert len(first["eventId"]) == 56 and first["eventId"].isdigit()
    assert "nextToken" not in out
    by_prefix = _messages(logs, logStreamNamePrefix="2024/05/01/[$LATEST]a", endTime=base + 10)
    assert by_prefix == ["START RequestId: 1", "ERROR something broke"]  # endTime inclusive
    with pytest.raises(ClientError) as err:
        logs.filter_log_events(logGroupName=GROUP, logStreamNames=["x"], logStreamNamePrefix="y")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"


def test_pagination_and_interleaving(server: ServerProcess, base: int) -> None:
    logs: Any = server.client("logs")
    first = logs.filter_log_events(logGroupName=GROUP, limit=3, interleaved=True)
    assert len(first["events"]) == 3 and first["nextToken"]
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=GROUP, PaginationConfig={"PageSize": 3}
    )
    events = [e for page in pages for e in page["events"]]
    stamps = [e["timestamp"] for e in events]
    assert len(events) == 8 and stamps == sorted(stamps)
    streams = [e["logStreamName"][-4:] for e in events]
    assert streams[:4] == ["aaaa", "bbbb", "aaaa", "bbbb"]


def _follow(logs: Any, group: str, seen: dict[int, set[str]], kwargs: dict[str, Any]) -> list[str]:
    """One polling round of `aws logs tail --follow` (CLI v2's FollowLogEventsGenerator)."""
    yielded: list[str] = []
    while True:
        response = logs.filter_log_events(**kwargs)
        for event in response["events"]:
            if event["eventId"] not in seen[event["timestamp"]]:
                seen[event["timestamp"]].add(event["eventId"])
                yielded.append(event["message"])
        if seen:
            newest = max(seen)
            kept = seen[newest]
            seen.clear()
            seen[newest] = kept
        if "nextToken" in response:
            kwargs["nextToken"] = response["nextToken"]
            continue
        if seen:
            kwargs["startTime"] = max(seen)
        kwargs.pop("nextToken", None)
        return yielded


def test_tail_follow_polling_yields_each_event_once(server: ServerProcess) -> None:
    logs: Any = server.client("logs")
    group, stream = "/aws/lambda/tailed", "s"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    t = _now_ms() - 60_000
    kwargs: dict[str, Any] = {
        "logGroupName": group,
        "interleaved": True,
        "startTime": t - 1000,
        "limit": 2,
    }
    seen: dict[int, set[str]] = defaultdict(set)
    assert _follow(logs, group, seen, kwargs) == []
    _put(logs, group, stream, [(t, "a"), (t + 1, "b"), (t + 1, "c")])
    assert _follow(logs, group, seen, kwargs) == ["a", "b", "c"]
    assert kwargs["startTime"] == t + 1
    assert _follow(logs, group, seen, kwargs) == []
    # A late event at the newest timestamp already seen, and newer ones.
    _put(logs, group, stream, [(t + 1, "d"), (t + 2, "e")])
    assert _follow(logs, group, seen, kwargs) == ["d", "e"]
    assert _follow(logs, group, seen, kwargs) == []


def test_aws_cli_v1_filter_log_events(server: ServerProcess, base: int, tmp_path: Path) -> None:
    key, secret = server.credentials()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    cmd = [
        str(REPO / ".venv/bin/aws"), "--endpoint-url", server.endpoint, "--output", "json",
        "logs", "filter-log-events", "--log-group-name", GROUP,
        "--filter-pattern", "?ERROR ?WARN", "--start-time", str(base), "--page-size", "1",
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [e["message"] for e in out["events"]] == [
        "ERROR something broke",
        "WARN disk nearly full",
        '{"level": "ERROR", "latency": 250, "user": {"id": "u-1"}}',
    ]


@pytest.fixture(scope="module")
def other_account(server: ServerProcess) -> Iterator[tuple[str, str]]:
    _, cred = create_account(server.data_dir)
    yield cred.access_key, cred.secret


def test_accounts_see_only_their_own_logs(
    server: ServerProcess, base: int, other_account: tuple[str, str]
) -> None:
    other: Any = server.client("logs", keys=other_account)
    assert other.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"] == []
    with pytest.raises(ClientError) as err:
        other.filter_log_events(logGroupName=GROUP)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    other.create_log_group(logGroupName=GROUP)  # same name, no clash
    assert other.filter_log_events(logGroupName=GROUP)["events"] == []
    mine: Any = server.client("logs")
    assert len(mine.filter_log_events(logGroupName=GROUP)["events"]) == 8
