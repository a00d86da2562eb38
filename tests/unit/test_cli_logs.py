"""`lambent logs`: --since parsing, event formatting, and the follow de-duplication."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lambent.cli.errors import UsageError
from lambent.cli.logs import LATE_WINDOW_MS, Follower, format_event, log_group, parse_since

NOW = 1_700_000_000_000


def ev(ident: str, ts: int, message: str = "m") -> dict[str, Any]:
    return {"eventId": ident, "timestamp": ts, "message": message, "logStreamName": "s"}


@pytest.mark.parametrize(
    ("text", "ago_ms"),
    [("30s", 30_000), ("10m", 600_000), ("2h", 7_200_000), ("1d", 86_400_000), ("1w", 604_800_000)],
)
def test_relative_since(text: str, ago_ms: int) -> None:
    assert parse_since(text, NOW) == NOW - ago_ms


def test_absolute_since() -> None:
    assert parse_since("2024-05-01T12:00:00Z", NOW) == 1_714_564_800_000
    assert parse_since("2024-05-01T12:00:00", NOW) == 1_714_564_800_000
    assert parse_since("2024-05-01T14:00:00+02:00", NOW) == 1_714_564_800_000


@pytest.mark.parametrize("text", ["", "yesterday", "10", "5y", "-3m"])
def test_bad_since(text: str) -> None:
    with pytest.raises(UsageError, match="--since expects"):
        parse_since(text, NOW)


def test_log_group_from_name_or_arn() -> None:
    assert log_group("fn") == "/aws/lambda/fn"
    assert log_group("arn:aws:lambda:us-east-1:123456789012:function:fn") == "/aws/lambda/fn"
    assert log_group("arn:aws:lambda:us-east-1:123456789012:function:fn:3") == "/aws/lambda/fn"


def test_format_event() -> None:
    stamp = int(dt.datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=dt.UTC).timestamp() * 1000)
    line = format_event(
        {"timestamp": stamp, "logStreamName": "2024/05/01/[$LATEST]ab", "message": "a\rb\n"}
    )
    assert line == "2024-05-01T12:00:00.123+00:00 2024/05/01/[$LATEST]ab a\nb"


def test_follower_prints_each_event_once() -> None:
    f = Follower(NOW)
    assert f.new_events([ev("1", NOW + 10), ev("2", NOW + 20)]) == [
        ev("1", NOW + 10),
        ev("2", NOW + 20),
    ]
    # The next poll overlaps the previous one: only the unseen event is new.
    assert f.new_events([ev("1", NOW + 10), ev("2", NOW + 20), ev("3", NOW + 20)]) == [
        ev("3", NOW + 20)
    ]
    assert f.new_events([]) == []


def test_follower_start_trails_the_newest_event_by_the_late_window() -> None:
    f = Follower(NOW)
    f.new_events([ev("1", NOW + 100_000)])
    assert f.start_ms == NOW + 100_000 - LATE_WINDOW_MS
    # An event that arrives late but inside the window is still shown.
    assert f.new_events([ev("late", NOW + 99_000), ev("1", NOW + 100_000)]) == [
        ev("late", NOW + 99_000)
    ]
    # Old events never move the start backwards.
    f.new_events([ev("old", NOW)])
    assert f.start_ms == NOW + 100_000 - LATE_WINDOW_MS


def test_follower_forgets_ids_older_than_its_start() -> None:
    f = Follower(NOW)
    f.new_events([ev("a", NOW + 1)])
    f.new_events([ev("b", NOW + 1 + 2 * LATE_WINDOW_MS)])
    assert "a" not in f._seen
    assert "b" in f._seen


def test_follower_without_event_ids_uses_the_content() -> None:
    f = Follower(NOW)
    plain = {"timestamp": NOW + 5, "message": "x", "logStreamName": "s"}
    assert f.new_events([plain]) == [plain]
    assert f.new_events([dict(plain)]) == []
