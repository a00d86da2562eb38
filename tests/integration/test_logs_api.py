"""The CloudWatch Logs API slice through real boto3 against a real `lambent serve`."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import ServerProcess


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def _now_ms() -> int:
    return int(time.time() * 1000)


def _put(logs: Any, group: str, stream: str, events: list[tuple[int, str]]) -> Any:
    return logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": ts, "message": msg} for ts, msg in events],
    )


def test_groups_streams_and_errors(server: ServerProcess) -> None:
    logs: Any = server.client("logs")
    account = server.client("sts").get_caller_identity()["Account"]
    logs.create_log_group(logGroupName="/aws/lambda/alpha")
    with pytest.raises(ClientError) as err:
        logs.create_log_group(logGroupName="/aws/lambda/alpha")
    assert _code(err) == "ResourceAlreadyExistsException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as err:
        logs.create_log_stream(logGroupName="/nope", logStreamName="s")
    assert _code(err) == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == "The specified log group does not exist."

    logs.create_log_stream(logGroupName="/aws/lambda/alpha", logStreamName="2024/01/01/[$LATEST]a")
    with pytest.raises(ClientError) as err:
        logs.create_log_stream(
            logGroupName="/aws/lambda/alpha", logStreamName="2024/01/01/[$LATEST]a"
        )
    assert _code(err) == "ResourceAlreadyExistsException"

    group = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/al")["logGroups"][0]
    assert group["logGroupName"] == "/aws/lambda/alpha"
    assert group["arn"] == f"arn:aws:logs:us-east-1:{account}:log-group:/aws/lambda/alpha:*"
    assert group["retentionInDays"] == 30  # the server's default bound
    assert group["storedBytes"] == 0 and abs(group["creationTime"] - _now_ms()) < 60_000

    logs.put_retention_policy(logGroupName="/aws/lambda/alpha", retentionInDays=7)
    group = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/alpha")["logGroups"][0]
    assert group["retentionInDays"] == 7
    with pytest.raises(ClientError) as err:
        logs.put_retention_policy(logGroupName="/aws/lambda/alpha", retentionInDays=2)
    assert _code(err) == "InvalidParameterException"
    assert "enum value set: [1, 3, 5, 7, 14," in err.value.response["Error"]["Message"]

    with pytest.raises(ClientError) as err:
        logs.get_log_events(logGroupName="/aws/lambda/alpha", logStreamName="missing")
    assert err.value.response["Error"]["Message"] == "The specified log stream does not exist."
    logs.delete_log_stream(logGroupName="/aws/lambda/alpha", logStreamName="2024/01/01/[$LATEST]a")
    assert logs.describe_log_streams(logGroupName="/aws/lambda/alpha")["logStreams"] == []
    logs.delete_log_group(logGroupName="/aws/lambda/alpha")
    with pytest.raises(ClientError) as err:
        logs.delete_log_group(logGroupName="/aws/lambda/alpha")
    assert _code(err) == "ResourceNotFoundException"


def test_describe_log_groups_pagination(server: ServerProcess) -> None:
    logs: Any = server.client("logs")
    for i in range(7):
        logs.create_log_group(logGroupName=f"/paged/g{i}")
    first = logs.describe_log_groups(logGroupNamePrefix="/paged/", limit=3)
    assert [g["logGroupName"] for g in first["logGroups"]] == [
        "/paged/g0",
        "/paged/g1",
        "/paged/g2",
    ]
    pages = logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix="/paged/", PaginationConfig={"PageSize": 3}
    )
    names = [g["logGroupName"] for page in pages for g in page["logGroups"]]
    assert names == [f"/paged/g{i}" for i in range(7)]
    matched = logs.describe_log_groups(logGroupNamePattern="G3")["logGroups"]
    assert [g["logGroupName"] for g in matched] == ["/paged/g3"]


def test_describe_log_streams_ordering(server: ServerProcess) -> None:
    logs: Any = server.client("logs")
    group = "/aws/lambda/streams"
    logs.create_log_group(logGroupName=group)
    now = _now_ms()
    for name, offset in (("b", 3000), ("a", 1000), ("c", 2000)):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        _put(logs, group, name, [(now - 5000 + offset, f"in {name}"), (now + offset, "later")])
    logs.create_log_stream(logGroupName=group, logStreamName="empty")

    by_name = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in by_name] == ["a", "b", "c", "empty"]
    a = by_name[0]
    assert a["firstEventTimestamp"] == now - 4000 and a["lastEventTimestamp"] == now + 1000
    assert "lastIngestionTime" in a and "firstEventTimestamp" not in by_name[3]
    assert a["arn"].endswith(f":log-group:{group}:log-stream:a")

    latest = logs.describe_log_streams(
        logGroupName=group, orderBy="LastEventTime", descending=True
    )["logStreams"]
    assert [s["logStreamName"] for s in latest] == ["b", "c", "a", "empty"]
    pages = logs.get_paginator("describe_log_streams").paginate(
        logGroupName=group, orderBy="LastEventTime", PaginationConfig={"PageSize": 1}
    )
    assert [s["logStreamName"] for p in pages for s in p["logStreams"]] == ["empty", "a", "c", "b"]
    prefixed = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="e")
    assert [s["logStreamName"] for s in prefixed["logStreams"]] == ["empty"]
    with pytest.raises(ClientError) as err:
        logs.describe_log_streams(
            logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="a"
        )
    assert _code(err) == "InvalidParameterException"


def test_get_log_events_tokens(server: ServerProcess) -> None:
    logs: Any = server.client("logs")
    group, stream = "/aws/lambda/tokens", "s"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    base = _now_ms() - 60_000
    _put(logs, group, stream, [(base + i, f"line {i}") for i in range(10)])

    tail = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=3)
    assert [e["message"] for e in tail["events"]] == ["line 7", "line 8", "line 9"]
    assert tail["nextForwardToken"].startswith("f/") and tail["nextBackwardToken"].startswith("b/")
    same = logs.get_log_events(
        logGroupName=group, logStreamName=stream, nextToken=tail["nextForwardToken"]
    )
    assert same["events"] == [] and same["nextForwardToken"] == tail["nextForwardToken"]
    back = logs.get_log_events(
        logGroupName=group, logStreamName=stream, limit=3, nextToken=tail["nextBackwardToken"]
    )
    assert [e["message"] for e in back["events"]] == ["line 4", "line 5", "line 6"]

    head = logs.get_log_events(
        logGroupName=group, logStreamName=stream, startFromHead=True, limit=4
    )
    assert [e["message"] for e in head["events"]] == [f"line {i}" for i in range(4)]
    assert all("ingestionTime" in e for e in head["events"])
    nxt = logs.get_log_events(
        logGroupName=group, logStreamName=stream, limit=100, nextToken=head["nextForwardToken"]
    )
    assert [e["message"] for e in nxt["events"]] == [f"line {i}" for i in range(4, 10)]

    _put(logs, group, stream, [(base + 100, "newer")])
    fresh = logs.get_log_events(
        logGroupName=group, logStreamName=stream, nextToken=nxt["nextForwardToken"]
    )
    assert [e["message"] for e in fresh["events"]] == ["newer"]

    window = logs.get_log_events(
        logGroupName=group,
        logStreamName=stream,
        startTime=base + 2,
        endTime=base + 5,
        startFromHead=True,
    )
    assert [e["message"] for e in window["events"]] == ["line 2", "line 3", "line 4"]
    with pytest.raises(ClientError) as err:
        logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken="x/123")
    assert _code(err) == "InvalidParameterException"


def test_put_log_events_rejections(server: ServerProcess) -> None:
    logs: Any = server.client("logs")
    group, stream = "/reject", "s"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = _now_ms()
    old = now - 15 * 86_400_000
    out = _put(logs, group, stream, [(old, "old"), (old + 1, "old too")])
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}
    out = _put(logs, group, stream, [(now, "ok"), (now + 3 * 3_600_000, "future")])
    assert out["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    out = _put(logs, group, stream, [(now - 2 * 86_400_000, "expired")])
    assert out["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}
    got = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
    assert [e["message"] for e in got] == ["ok"]
    with pytest.raises(ClientError) as err:
        _put(logs, group, stream, [(now - 25 * 3_600_000, "a"), (now, "b")])
    assert _code(err) == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        _put(logs, "/nope", stream, [(now, "x")])
    assert _code(err) == "ResourceNotFoundException"


def test_group_identifier_by_arn(server: ServerProcess) -> None:
    logs: Any = server.client("logs")
    logs.create_log_group(logGroupName="/by/arn")
    logs.create_log_stream(logGroupName="/by/arn", logStreamName="s")
    _put(logs, "/by/arn", "s", [(_now_ms(), "via arn")])
    arn = logs.describe_log_groups(logGroupNamePrefix="/by/arn")["logGroups"][0]["logGroupArn"]
    got = logs.get_log_events(logGroupIdentifier=arn, logStreamName="s")["events"]
    assert [e["message"] for e in got] == ["via arn"]
    streams = logs.describe_log_streams(logGroupIdentifier=arn)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["s"]
    found = logs.filter_log_events(logGroupIdentifier="/by/arn")["events"]
    assert [e["message"] for e in found] == ["via arn"]
    elsewhere = arn.replace(arn.split(":")[4], "999999999999")
    with pytest.raises(ClientError) as err:
        logs.get_log_events(logGroupIdentifier=elsewhere, logStreamName="s")
    assert _code(err) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        logs.get_log_events(logStreamName="s")
    assert _code(err) == "InvalidParameterException"
