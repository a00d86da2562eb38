"""Pagination tokens of the Logs API.

Events are ordered by (timestamp, ingestion sequence); that pair is an event's key and
its 56-digit eventId. GetLogEvents tokens are "f/<key>" (events after it) and "b/<key>"
(events before it), as AWS shapes them; FilterLogEvents and the Describe calls get opaque
tokens naming the last item returned, so pages stay correct under concurrent writes.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Literal

from lambent.logs.errors import invalid_parameter

EventKey = tuple[int, int]
Direction = Literal["f", "b"]
START: EventKey = (0, 0)
_TS_DIGITS = 20
_SEQ_DIGITS = 36
_BAD_TOKEN = "The specified nextToken is invalid."


def event_id(key: EventKey) -> str:
    ts, seq = key
    return f"{max(ts, 0):0{_TS_DIGITS}d}{seq:0{_SEQ_DIGITS}d}"


def parse_event_id(text: str) -> EventKey:
    if len(text) != _TS_DIGITS + _SEQ_DIGITS or not text.isdigit():
        raise invalid_parameter(_BAD_TOKEN)
    return int(text[:_TS_DIGITS]), int(text[_TS_DIGITS:])


def stream_token(direction: Direction, key: EventKey) -> str:
    return f"{direction}/{event_id(key)}"


def parse_stream_token(token: str) -> tuple[Direction, EventKey]:
    head, _, body = token.partition("/")
    if head == "f":
        return "f", parse_event_id(body)
    if head == "b":
        return "b", parse_event_id(body)
    raise invalid_parameter(_BAD_TOKEN)


def opaque(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_opaque(token: str) -> Any:
    padded = token + "=" * (-len(token) % 4)
    try:
        return json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise invalid_parameter(_BAD_TOKEN) from exc


def parse_opaque_key(token: str) -> EventKey:
    value = parse_opaque(token)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise invalid_parameter(_BAD_TOKEN)
    return int(value[0]), int(value[1])
