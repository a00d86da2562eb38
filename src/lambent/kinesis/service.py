"""The stream service: Kinesis's rules over a StreamBackend (backend.py).

Streams are ACTIVE as soon as CreateStream returns (AWS passes through CREATING for a few
seconds; clients that wait with the `stream_exists` waiter see ACTIVE at once). Retention
applies on read (records older than the period are never returned) and by trimming,
at most once a minute per stream, on the put path."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from lambent.clock import Clock
from lambent.kinesis import iterators, model
from lambent.kinesis.backend import StreamBackend
from lambent.kinesis.errors import InvalidArgument, StreamInUse, StreamNotFound, not_found
from lambent.kinesis.model import NewRecord, StoredRecord, StreamRecord

DEFAULT_RETENTION_H = 24
MAX_RETENTION_H = 8760
TRIM_EVERY_MS = 60_000


@dataclass(frozen=True, slots=True)
class Entry:
    partition_key: str
    data: bytes
    explicit_hash_key: str | None = None


@dataclass(frozen=True, slots=True)
class Put:
    shard_id: str
    sequence_number: str


@dataclass(frozen=True, slots=True)
class Batch:
    records: list[StoredRecord]
    sequence_numbers: list[str]
    next_iterator: str | None
    millis_behind: int


class Streams:
    def __init__(self, backend: StreamBackend, clock: Clock) -> None:
        self.backend = backend
        self._clock = clock
        self._trimmed: dict[str, int] = {}

    def _now_ms(self) -> int:
        return int(self._clock.time() * 1000)

    async def close(self) -> None:
        await self.backend.close()

    # -- streams -------------------------------------------------------------------------
    async def create(self, account: str, region: str, name: str, shards: int) -> StreamRecord:
        if not 1 <= shards <= model.MAX_SHARDS:
            raise InvalidArgument(f"ShardCount must be between 1 and {model.MAX_SHARDS}.")
        record = StreamRecord(
            uuid.uuid4().hex, account, region, name, shards, DEFAULT_RETENTION_H, self._now_ms()
        )
        if not await self.backend.create_stream(record):
            raise StreamInUse(f"Stream {name} under account {account} already exists.")
        return record

    async def find(self, account: str, name: str) -> StreamRecord:
        stream = await self.backend.get_stream(account, name)
        if stream is None:
            raise not_found(name, account)
        return stream

    async def page(self, account: str, after: str, limit: int) -> list[StreamRecord]:
        return await self.backend.list_streams(account, after, limit)

    async def delete(self, account: str, name: str) -> None:
        stream = await self.find(account, name)
        if not await self.backend.delete_stream(stream.id):
            raise not_found(name, account)

    async def set_retention(self, account: str, name: str, hours: int, increase: bool) -> None:
        stream = await self.find(account, name)
        if hours < DEFAULT_RETENTION_H:
            raise InvalidArgument(
                f"Minimum allowed retention period is {DEFAULT_RETENTION_H} hours. "
                f"Requested retention period ({hours} hours) is too short."
            )
        if hours > MAX_RETENTION_H:
            raise InvalidArgument(
                f"Maximum allowed retention period is {MAX_RETENTION_H} hours. "
                f"Requested retention period ({hours} hours) is too long."
            )
        current = stream.retention_hours
        if increase and hours < current:
            raise InvalidArgument(
                f"Requested retention period ({hours} hours) for stream {name} can not be "
                f"shorter than existing retention period ({current} hours). "
                "Use DecreaseRetentionPeriod API."
            )
        if not increase and hours > current:
            raise InvalidArgument(
                f"Requested retention period ({hours} hours) for stream {name} can not be "
                f"longer than existing retention period ({current} hours). "
                "Use IncreaseRetentionPeriod API."
            )
        await self.backend.set_retention(stream.id, hours)

    # -- records -------------------------------------------------------------------------
    async def put(self, account: str, name: str, entries: Sequence[Entry]) -> list[Put]:
        stream = await self.find(account, name)
        now = self._now_ms()
        new = [NewRecord(_shard_of(stream, e), e.partition_key, e.data, now) for e in entries]
        try:
            positions = await self.backend.append(stream.id, new)
        except KeyError:
            raise not_found(name, account) from None
        await self._maybe_trim(stream, now)
        named = {
            i: (model.shard_id(i), model.sequence_prefix(stream, i)) for i in {r.shard for r in new}
        }
        return [
            Put(named[r.shard][0], f"{named[r.shard][1]}{p:036d}")
            for r, p in zip(new, positions, strict=True)
        ]

    async def _maybe_trim(self, stream: StreamRecord, now: int) -> None:
        if now - self._trimmed.get(stream.id, 0) < TRIM_EVERY_MS:
            return
        self._trimmed[stream.id] = now
        await self.backend.trim(stream.id, _horizon(stream, now))

    async def iterator(
        self,
        account: str,
        name: str,
        shard: str,
        kind: str,
        sequence: str | None,
        at_ms: int | None,
    ) -> str:
        stream = await self.find(account, name)
        index = model.shard_index(shard, stream.shard_count)
        if index is None:
            raise StreamNotFound(
                f"Shard {shard} in stream {name} under account {account} does not exist"
            )
        position = await self._start(stream, index, kind, sequence, at_ms)
        it = iterators.Iterator(stream.id, account, name, index, position, self._now_ms())
        return iterators.encode(it)

    async def _start(
        self, stream: StreamRecord, shard: int, kind: str, seq: str | None, at_ms: int | None
    ) -> int:
        if kind == "TRIM_HORIZON":
            return 0
        if kind == "LATEST":
            return await self.backend.end(stream.id, shard)
        if kind == "AT_TIMESTAMP":
            if at_ms is None:
                raise InvalidArgument(
                    "Must specify timestampInMillis parameter for iterator of type "
                    "AT_TIMESTAMP. Current request has no timestamp parameter."
                )
            return await self.backend.position_at(stream.id, shard, at_ms)
        if seq is None:
            raise InvalidArgument(
                "Must specify a StartingSequenceNumber for iterator of type " + kind + "."
            )
        parsed = model.parse_sequence(stream, seq)
        if parsed is None or parsed[0] != shard:
            raise InvalidArgument(
                f"StartingSequenceNumber {seq} used in GetShardIterator on shard "
                f"{model.shard_id(shard)} in stream {stream.name} under account "
                f"{stream.account} is invalid."
            )
        return parsed[1] + (1 if kind == "AFTER_SEQUENCE_NUMBER" else 0)

    async def get_records(self, iterator: str, limit: int) -> Batch:
        now = self._now_ms()
        it = iterators.decode(iterator, now)
        stream = await self.backend.get_stream(it.account, it.name)
        if stream is None or stream.id != it.stream_id:
            raise not_found(it.name, it.account)
        found = await self.backend.read(
            stream.id, it.shard, it.position, limit, _horizon(stream, now)
        )
        nxt = found[-1].position + 1 if found else it.position
        end = await self.backend.end(stream.id, it.shard)
        behind = 0 if nxt >= end or not found else max(0, now - found[-1].arrival_ms)
        seqs = [model.sequence_number(stream, it.shard, r.position) for r in found]
        follow = iterators.Iterator(stream.id, it.account, it.name, it.shard, nxt, now)
        return Batch(found, seqs, iterators.encode(follow), behind)


def _horizon(stream: StreamRecord, now: int) -> int:
    return now - stream.retention_hours * 3_600_000


def _shard_of(stream: StreamRecord, entry: Entry) -> int:
    if entry.explicit_hash_key is None:
        return model.shard_for(model.hash_key(entry.partition_key), stream.shard_count)
    text = entry.explicit_hash_key
    key = int(text) if text.isdigit() else -1
    if not 0 <= key < model.HASH_SPACE:
        raise InvalidArgument(
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
            f"Specified value was {text}"
        )
    return model.shard_for(key, stream.shard_count)
