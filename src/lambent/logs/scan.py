"""The read logic both log backends share, so the Logs API answers the same on each.

A backend only runs the queries (rows in (timestamp, seq) order); how many rows a page
holds, the 1 MB response budget, the pattern match, the FilterLogEvents scan budget and
where the next token resumes are decided here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lambent.logs import tokens
from lambent.logs.tokens import EventKey

MAX_RESPONSE_BYTES = 1_048_576
DEFAULT_EVENT_LIMIT = 10_000
# FilterLogEvents examines at most this many events per call, then hands back a token
# (AWS also returns partial, even empty, pages with a nextToken).
SCAN_BUDGET = 100_000
CHUNK = 2_000
EVENT_OVERHEAD = 26

# (ts, seq, stream_id, ingested, message, size): one row of a group's events.
ScanRow = tuple[int, int, int, int, str, int]
# (ts, seq, ingested, message, size): one row of a stream's events.
StreamRow = tuple[int, int, int, str, int]
StreamEvent = tuple[EventKey, int, str]  # (key, ingestion time, message)


@dataclass(frozen=True)
class GroupRow:
    gid: int
    name: str
    created_ms: int
    retention_days: int | None
    stored_bytes: int


@dataclass(frozen=True)
class EventQuery:
    """A FilterLogEvents request after parsing: bounds are inclusive milliseconds.
    `stream_names` / `stream_prefix` narrow it to some streams (at most one is set)."""

    stream_names: list[str] | None
    stream_prefix: str | None
    start_ms: int | None
    end_ms: int | None
    matcher: Callable[[str], bool]
    limit: int
    after: EventKey


def stream_item(
    name: str, created: int, first: int | None, last: int | None, ingested: int | None, size: int
) -> dict[str, Any]:
    """A DescribeLogStreams member; absent timestamps are left out, as AWS does."""
    item: dict[str, Any] = {"logStreamName": name, "creationTime": int(created)}
    if first is not None:
        item["firstEventTimestamp"] = int(first)
    if last is not None:
        item["lastEventTimestamp"] = int(last)
    if ingested is not None:
        item["lastIngestionTime"] = int(ingested)
    item["storedBytes"] = int(size)
    return item


def stream_token_fits(after: list[Any], by_last_event: bool) -> bool:
    """A DescribeLogStreams token names the last stream's sort key: (lastEventTimestamp,
    name) or (name). Checked by type, so every backend calls a wrong one invalid (SQLite
    would compare a number with text; PostgreSQL would fail)."""
    if len(after) != (2 if by_last_event else 1) or not isinstance(after[-1], str):
        return False
    return not by_last_event or (isinstance(after[0], int) and not isinstance(after[0], bool))


def stream_page(rows: Sequence[StreamRow], forward: bool) -> list[StreamEvent]:
    """GetLogEvents' page from rows nearest the bound first: about 1 MB at most, always at
    least one event, in ascending order."""
    out: list[StreamEvent] = []
    budget = MAX_RESPONSE_BYTES
    for ts, seq, ingested, message, size in rows:
        budget -= int(size) + EVENT_OVERHEAD
        if budget < 0 and out:
            break
        out.append(((int(ts), int(seq)), int(ingested), str(message)))
    if not forward:
        out.reverse()
    return out


class FilterScan:
    """One FilterLogEvents call as a state machine a backend drives:

        while (size := scan.wants()) is not None:
            scan.feed(rows after scan.position, at most `size` of them)

    then `scan.found` and `scan.resume` are the page and where the next one starts."""

    def __init__(self, query: EventQuery, names: dict[int, str]) -> None:
        self._query = query
        self._names = names
        self.found: list[dict[str, Any]] = []
        self.resume: EventKey | None = None
        self.position: EventKey = query.after
        self._budget = MAX_RESPONSE_BYTES
        self._scanned = 0
        self._want: int | None = CHUNK
        self._probing = False

    def wants(self) -> int | None:
        return self._want

    def feed(self, rows: Sequence[ScanRow]) -> None:
        if self._probing:  # was there anything after a full page?
            self.resume = self.position if rows else None
            self._want = None
            return
        for ts, seq, sid, ingested, message, size in rows:
            if self._take(int(ts), int(seq), int(sid), int(ingested), str(message), int(size)):
                return
        if len(rows) < CHUNK:
            self._want = None
        elif self._scanned >= SCAN_BUDGET:
            self.resume, self._want = self.position, None

    def _take(self, ts: int, seq: int, sid: int, ingested: int, message: str, size: int) -> bool:
        """Examine one row; True once the page is complete."""
        self.position = (ts, seq)
        self._scanned += 1
        if not self._query.matcher(message):
            return False
        self._budget -= size + EVENT_OVERHEAD
        if self._budget < 0 and self.found:
            self.resume, self._want = (ts, seq - 1), None
            return True
        self.found.append(
            {
                "logStreamName": self._names.get(sid, ""),
                "timestamp": ts,
                "message": message,
                "ingestionTime": ingested,
                "eventId": tokens.event_id(self.position),
            }
        )
        if len(self.found) >= self._query.limit:
            self._probing, self._want = True, 1
            return True
        return False
