"""Streams, shards and records as Kinesis shapes them.

Hash keys: a record's partition key is hashed with MD5 to a 128-bit integer; shard i of N
owns [i * 2**128 // N, (i + 1) * 2**128 // N - 1] (AWS's split; the last shard ends at
2**128 - 1). Sequence numbers are 56-digit decimal strings like AWS's: `49`, the stream's
creation second (12 digits), the shard index (6), the record's position in its shard (36),
so they increase within a shard and name the shard they belong to."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

HASH_SPACE = 2**128
MAX_SHARDS = 10_000
_POS_DIGITS = 36


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """A stream as the backend stores it: each incarnation its own id."""

    id: str
    account: str
    region: str
    name: str
    shard_count: int
    retention_hours: int
    created_ms: int

    @property
    def arn(self) -> str:
        return f"arn:aws:kinesis:{self.region}:{self.account}:stream/{self.name}"


@dataclass(frozen=True, slots=True)
class NewRecord:
    shard: int
    partition_key: str
    data: bytes
    arrival_ms: int


@dataclass(frozen=True, slots=True)
class StoredRecord:
    shard: int
    position: int
    partition_key: str
    data: bytes
    arrival_ms: int


def shard_id(index: int) -> str:
    return f"shardId-{index:012d}"


def shard_index(shard: str, count: int) -> int | None:
    """The index a ShardId names in a stream of `count` shards, or None."""
    prefix = "shardId-"
    digits = shard[len(prefix) :] if shard.startswith(prefix) else ""
    if len(digits) != 12 or not digits.isdigit():
        return None
    index = int(digits)
    return index if index < count else None


def hash_range(index: int, count: int) -> tuple[int, int]:
    step = HASH_SPACE // count
    end = HASH_SPACE - 1 if index == count - 1 else (index + 1) * step - 1
    return index * step, end


def hash_key(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


def shard_for(key: int, count: int) -> int:
    return min(key // (HASH_SPACE // count), count - 1)


def sequence_prefix(stream: StreamRecord, shard: int) -> str:
    """The first 20 digits, shared by every sequence number of the shard."""
    return f"49{stream.created_ms // 1000:012d}{shard:06d}"


def sequence_number(stream: StreamRecord, shard: int, position: int) -> str:
    return f"{sequence_prefix(stream, shard)}{position:0{_POS_DIGITS}d}"


def parse_sequence(stream: StreamRecord, text: str) -> tuple[int, int] | None:
    """(shard, position) of a sequence number of this stream, or None."""
    if len(text) != 56 or not text.isdigit() or not text.startswith("49"):
        return None
    if int(text[2:14]) != stream.created_ms // 1000:
        return None
    return int(text[14:20]), int(text[20:])
