"""A PutEvents entry checked and wrapped in AWS's envelope. Pure.

The envelope: `version` "0", `id` (a uuid), `detail-type`, `source`, `account` (the
sender's), `time` (the entry's Time or now, ISO 8601 in UTC, seconds), `region`,
`resources`, `detail` (the parsed Detail object). An entry's size is counted as AWS counts
it (Time 14 bytes, Source, DetailType, Detail and Resources in UTF-8).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_TOTAL = 256 * 1024


@dataclass(frozen=True)
class EntryError:
    code: str
    message: str


def entry_size(entry: Mapping[str, Any]) -> int:
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        if entry.get(key) is not None:
            size += len(str(entry[key]).encode())
    for resource in entry.get("Resources") or ():
        size += len(str(resource).encode())
    return size


def check(entry: Mapping[str, Any]) -> EntryError | None:
    """AWS's per-entry refusals (the entry fails, the others go on)."""
    for key in ("Source", "DetailType", "Detail"):
        if not entry.get(key):
            return EntryError(
                "InvalidArgument",
                f"Parameter {key} is not valid. Reason: {key} is a required argument.",
            )
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        return EntryError("MalformedDetail", "Detail is malformed.")
    if not isinstance(detail, dict):
        return EntryError("MalformedDetail", "Detail is malformed.")
    if str(entry["Source"]).startswith("aws."):
        return EntryError("NotAuthorizedForSourceException", "Not authorized for the source.")
    return None


def _stamp(value: Any, now: float) -> str:
    if isinstance(value, dt.datetime):
        when = value.astimezone(dt.UTC)
    else:
        when = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(entry: Mapping[str, Any], account: str, region: str, now: float) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": account,
        "time": _stamp(entry.get("Time"), now),
        "region": region,
        "resources": list(entry.get("Resources") or []),
        "detail": json.loads(entry["Detail"]),
    }
