"""`lambent logs NAME [-f]`: a function's log events, like `aws logs tail [--follow]`.

Following polls FilterLogEvents about once a second. Each poll asks again from a little
before the newest event seen (`LATE_WINDOW_MS`), because lines from different execution
environments can reach the log store slightly out of timestamp order; events already
printed are recognised by `eventId` and skipped, so nothing prints twice and a line
flushed a moment late is still shown.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from lambent.cli.client import AwsClient
from lambent.cli.errors import ApiError, UsageError
from lambent.cli.functions import function_path

POLL_INTERVAL_S = 1.0
LATE_WINDOW_MS = 5_000
DEFAULT_SINCE = "10m"
_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

Event = dict[str, Any]


def log_group(function: str) -> str:
    """`/aws/lambda/NAME`, also when given the function's ARN."""
    name = (
        function.split(":")[6]
        if function.startswith("arn:") and function.count(":") >= 6
        else function
    )
    return f"/aws/lambda/{name}"


def parse_since(text: str, now_ms: int) -> int:
    """`--since` as epoch milliseconds: `30s`, `10m`, `2h`, `1d`, `1w`, or an ISO 8601 time
    (UTC when it carries no offset)."""
    m = _RELATIVE.match(text.strip())
    if m:
        return now_ms - int(m.group(1)) * _UNIT_S[m.group(2)] * 1000
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--since expects a duration like 30s, 10m, 2h, 1d, 1w or an ISO 8601 time, "
            f"got {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def format_event(event: Event) -> str:
    stamp = dt.datetime.fromtimestamp(int(event.get("timestamp", 0)) / 1000, tz=dt.UTC)
    # Lambda's runtimes turn a multi-line record into one event with `\r` separators.
    message = str(event.get("message", "")).removesuffix("\n").replace("\r", "\n")
    return f"{stamp.isoformat(timespec='milliseconds')} {event.get('logStreamName', '-')} {message}"


def event_key(event: Event) -> str:
    ident = event.get("eventId")
    if ident:
        return str(ident)
    return f"{event.get('logStreamName')}|{event.get('timestamp')}|{event.get('message')}"


def fetch_events(client: AwsClient, group: str, start_ms: int, pattern: str | None) -> list[Event]:
    """Every event from start_ms on, over all pages, in timestamp order."""
    request: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
    if pattern:
        request["filterPattern"] = pattern
    events: list[Event] = []
    seen_tokens: set[str] = set()
    while True:
        page = client.logs("FilterLogEvents", request)
        events.extend(page.get("events") or [])
        token = page.get("nextToken")
        if not token or token in seen_tokens:
            break
        seen_tokens.add(token)
        request["nextToken"] = token
    events.sort(key=lambda e: int(e.get("timestamp", 0)))
    return events


class Follower:
    """Which fetched events are new, and where the next poll starts. Pure: no I/O."""

    def __init__(self, start_ms: int) -> None:
        self.start_ms = start_ms
        self._seen: dict[str, int] = {}  # eventId -> timestamp, for events >= start_ms

    def new_events(self, events: Iterable[Event]) -> list[Event]:
        fresh: list[Event] = []
        newest = None
        for event in events:
            ts = int(event.get("timestamp", 0))
            newest = ts if newest is None else max(newest, ts)
            key = event_key(event)
            if key in self._seen:
                continue
            self._seen[key] = ts
            fresh.append(event)
        if newest is not None:
            self.start_ms = max(self.start_ms, newest - LATE_WINDOW_MS)
            self._seen = {k: ts for k, ts in self._seen.items() if ts >= self.start_ms}
        return fresh


def print_events(events: Iterable[Event], out: TextIO) -> None:
    for event in events:
        out.write(format_event(event) + "\n")
    out.flush()


def show(
    client: AwsClient,
    function: str,
    start_ms: int,
    pattern: str | None,
    out: TextIO,
    err: TextIO,
) -> int:
    try:
        events = fetch_events(client, log_group(function), start_ms, pattern)
    except ApiError as exc:
        if exc.code != "ResourceNotFoundException":
            raise
        _require_function(client, function)
        err.write(f"no logs yet for {function}: it has not been invoked\n")
        return 0
    print_events(events, out)
    return 0


def _require_function(client: AwsClient, function: str) -> None:
    """A missing log group is normal for a new function, but a typo deserves an error:
    GetFunctionConfiguration raises Lambda's own ResourceNotFoundException for it."""
    client.lambda_json("GET", function_path(function, "/configuration"))


def follow(
    client: AwsClient,
    function: str,
    start_ms: int,
    pattern: str | None,
    out: TextIO,
    err: TextIO,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Print events as they arrive until interrupted (Ctrl-C ends it with status 0)."""
    group = log_group(function)
    follower = Follower(start_ms)
    waiting_noted = False
    try:
        while True:
            try:
                events = fetch_events(client, group, follower.start_ms, pattern)
            except ApiError as exc:
                if exc.code != "ResourceNotFoundException":
                    raise
                if not waiting_noted:
                    _require_function(client, function)
                    err.write(f"waiting for log group {group} (no invocation has logged yet)\n")
                    err.flush()
                    waiting_noted = True
                events = []
            print_events(follower.new_events(events), out)
            sleep(POLL_INTERVAL_S)
    except KeyboardInterrupt:
        return 0
