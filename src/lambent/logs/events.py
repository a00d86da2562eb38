"""Log events through the API: PutLogEvents, GetLogEvents, FilterLogEvents."""

from __future__ import annotations

from typing import Any

from lambent.logs import patterns, retention, tokens
from lambent.logs.buffer import MAX_MESSAGE_BYTES, EventRow, clip
from lambent.logs.catalog import group_name
from lambent.logs.errors import invalid_parameter
from lambent.logs.interface import LogStore
from lambent.logs.scan import DEFAULT_EVENT_LIMIT, EventQuery

MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
TOO_NEW_MS = 2 * 3600 * 1000
TOO_OLD_MS = 14 * retention.DAY_MS
MAX_SPAN_MS = 24 * 3600 * 1000


def _rejections(
    events: list[dict[str, Any]], now_ms: int, retention_days: int
) -> tuple[dict[str, int], list[EventRow]]:
    """AWS's rejectedLogEventsInfo for a batch, and the events it accepts."""
    info: dict[str, int] = {}
    accepted: list[EventRow] = []
    expired_before = retention.cutoff_ms(now_ms, retention_days)
    for i, event in enumerate(events):
        ts = int(event["timestamp"])
        if ts > now_ms + TOO_NEW_MS:
            info.setdefault("tooNewLogEventStartIndex", i)
        elif ts < expired_before:
            info["expiredLogEventEndIndex"] = i
        elif ts < now_ms - TOO_OLD_MS:
            info["tooOldLogEventEndIndex"] = i
        else:
            accepted.append((ts, clip(str(event["message"]))))
    return info, accepted


def _check_batch(events: list[dict[str, Any]]) -> None:
    size = 0
    for event in events:
        length = len(str(event["message"]).encode())
        if length > MAX_MESSAGE_BYTES:
            raise invalid_parameter(
                f"Log event too large: {length + EVENT_OVERHEAD} bytes exceeds limit of "
                f"{MAX_MESSAGE_BYTES + EVENT_OVERHEAD}"
            )
        size += length + EVENT_OVERHEAD
    if size > MAX_BATCH_BYTES:
        raise invalid_parameter(
            f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )
    stamps = [int(e["timestamp"]) for e in events]
    if stamps and max(stamps) - min(stamps) > MAX_SPAN_MS:
        raise invalid_parameter(
            "The batch of log events in a single PutLogEvents request cannot span more "
            "than 24 hours."
        )


class LogEvents:
    def __init__(self, store: LogStore) -> None:
        self._store = store

    async def put(self, account: str, params: dict[str, Any]) -> dict[str, Any]:
        events = list(params["logEvents"])
        _check_batch(events)
        now_ms = int(self._store.clock.time() * 1000)
        default = self._store.settings.default_retention_days
        info: dict[str, int] = {}

        def accept(explicit_days: int | None) -> list[EventRow]:
            days = retention.effective_days(explicit_days, default)
            rejected, accepted = _rejections(events, now_ms, days)
            info.update(rejected)
            return accepted

        await self._store.put_events(
            account, params["logGroupName"], params["logStreamName"], now_ms, accept
        )
        out: dict[str, Any] = {"nextSequenceToken": tokens.event_id((now_ms, 0))}
        if info:
            out["rejectedLogEventsInfo"] = info
        return out

    async def get(self, account: str, params: dict[str, Any]) -> dict[str, Any]:
        group = group_name(account, params)
        limit = int(params.get("limit") or DEFAULT_EVENT_LIMIT)
        token = params.get("nextToken")
        if token:
            direction, bound = tokens.parse_stream_token(str(token))
            forward = direction == "f"
        else:
            forward, bound = bool(params.get("startFromHead")), None
        window = (params.get("startTime"), params.get("endTime"))
        rows = await self._store.stream_events(
            account, group, params["logStreamName"], window, limit, forward, bound
        )
        events = [{"timestamp": k[0], "message": m, "ingestionTime": i} for k, i, m in rows]
        if rows:
            first, last = rows[0][0], rows[-1][0]
        else:
            # Nothing new: hand back the same position, as AWS returns the same token.
            first = last = bound if bound is not None else tokens.START
        return {
            "events": events,
            "nextForwardToken": tokens.stream_token("f", last),
            "nextBackwardToken": tokens.stream_token("b", first),
        }

    async def filter(self, account: str, params: dict[str, Any]) -> dict[str, Any]:
        group = group_name(account, params)
        names = params.get("logStreamNames")
        prefix = params.get("logStreamNamePrefix")
        if names is not None and prefix is not None:
            raise invalid_parameter(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters."
            )
        matcher = patterns.compile_pattern(params.get("filterPattern"))
        token = params.get("nextToken")
        after = tokens.parse_opaque_key(str(token)) if token else tokens.START
        query = EventQuery(
            stream_names=list(names) if names else None,
            stream_prefix=None if names else (str(prefix) if prefix else None),
            start_ms=params.get("startTime"),
            end_ms=params.get("endTime"),
            matcher=matcher,
            limit=int(params.get("limit") or DEFAULT_EVENT_LIMIT),
            after=after,
        )
        found, resume = await self._store.filter_events(account, group, query)
        out: dict[str, Any] = {"events": found, "searchedLogStreams": []}
        if resume is not None:
            out["nextToken"] = tokens.opaque(list(resume))
        return out
