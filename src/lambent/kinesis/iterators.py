"""Shard iterators: opaque to clients, self-describing to us (no server state), so any node
of a cluster can serve GetRecords for an iterator another node issued. Each names the
stream incarnation, the shard, the next position to read and when it was issued: AWS
refuses an iterator older than 5 minutes (ExpiredIteratorException), and so do we."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from lambent.kinesis.errors import ExpiredIterator, InvalidArgument

TTL_MS = 300_000


@dataclass(frozen=True, slots=True)
class Iterator:
    stream_id: str
    account: str
    name: str
    shard: int
    position: int
    issued_ms: int


def encode(it: Iterator) -> str:
    raw = json.dumps(
        [it.stream_id, it.account, it.name, it.shard, it.position, it.issued_ms],
        separators=(",", ":"),
    ).encode()
    return base64.b64encode(raw).decode()


def decode(text: str, now_ms: int) -> Iterator:
    try:
        sid, account, name, shard, position, issued = json.loads(base64.b64decode(text))
        it = Iterator(str(sid), str(account), str(name), int(shard), int(position), int(issued))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidArgument(f"Invalid ShardIterator: {text[:64]}") from exc
    if now_ms - it.issued_ms > TTL_MS:
        raise ExpiredIterator(
            f"Iterator expired. The iterator was created at time {_java(it.issued_ms)} while "
            f"right now it is {_java(now_ms)} which is further in the future than the "
            f"tolerated delay of {TTL_MS} milliseconds."
        )
    return it


def _java(ms: int) -> str:
    """A time as AWS's message prints it (Java's Date.toString in UTC)."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
