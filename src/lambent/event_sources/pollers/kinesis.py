"""The Kinesis source: a mapping's stream read as Lambda's Kinesis pollers read it (partial:
docs/SPECIFICATION.md, "Kinesis streams").

One lane per mapping (max_concurrency 1), so each shard's records reach the function in
order, one batch at a time; shards take turns. A batch holds records of one shard only.
Where the mapping starts is StartingPosition (TRIM_HORIZON, LATEST, AT_TIMESTAMP), decided
once and checkpointed at once, so a restart never skips ahead; after that a shard resumes
from its durable checkpoint (the stream backend's `kinesis_checkpoints`), which moves only
when a batch settled: at least once across restarts and lease moves.

FilterCriteria see only `data` (Lambda: "Kinesis event source mappings only support
filtering on the data key"), base64-decoded and read as JSON: `filter_view`.

Settling: success (or records FilterCriteria dropped) moves the checkpoint past the batch;
ReportBatchItemFailures moves it to the first failed sequence number (AWS retries from
there); a function error keeps it, so the batch is retried until it succeeds
(MaximumRetryAttempts -1, AWS's default; other retry settings are not applied yet).

The event is AWS's (key order of the Lambda developer guide's sample and of real payloads;
aws-sam-cli's bundled sample was not found to compare): Records[] of kinesis
{kinesisSchemaVersion, partitionKey, sequenceNumber, data (base64),
approximateArrivalTimestamp}, eventSource "aws:kinesis", eventVersion "1.0", eventID
"SHARD:SEQ", eventName "aws:kinesis:record", invokeIdentityArn, awsRegion, eventSourceARN.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from lambent.event_sources.pollers.source import (
    Backlog,
    Failure,
    Record,
    Settlement,
    Source,
    SourceFactory,
    SourceUnavailable,
)
from lambent.kinesis import model
from lambent.kinesis.model import StoredRecord, StreamRecord
from lambent.kinesis.service import Streams
from lambent.store.interface import Doc


def record_of(stream: StreamRecord, r: StoredRecord, role_arn: str) -> Record:
    seq = model.sequence_number(stream, r.shard, r.position)
    item: dict[str, Any] = {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": r.partition_key,
            "sequenceNumber": seq,
            "data": base64.b64encode(r.data).decode(),
            "approximateArrivalTimestamp": r.arrival_ms / 1000,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{model.shard_id(r.shard)}:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": stream.region,
        "eventSourceARN": stream.arn,
    }
    size = len(json.dumps(item, separators=(",", ":")))
    return Record(seq, item, size, model.shard_id(r.shard), r.arrival_ms / 1000)


class KinesisSource:
    filter_key = ("data", True)
    max_concurrency = 1

    def __init__(self, streams: Streams, stream: StreamRecord, doc: Doc, role_arn: str) -> None:
        self._streams = streams
        self._backend = streams.backend
        self._stream = stream
        self._mapping = str(doc["UUID"])
        self._doc = doc
        self._role = role_arn
        self.batch_size = int(doc.get("BatchSize") or 100)
        self.window_s = float(doc.get("MaximumBatchingWindowInSeconds") or 0)
        self._next_shard = 0
        self._current: int | None = None  # the shard of the batch being gathered
        self._cursor = 0  # where the current shard's next receive reads
        self._handed = 0  # records handed out from the current shard, not yet settled

    async def _checkpoint(self, shard: int) -> int:
        found = await self._backend.get_checkpoint(self._mapping, self._stream.id, shard)
        if found is not None:
            return found
        start = await self._start(shard)
        await self._backend.set_checkpoint(self._mapping, self._stream.id, shard, start)
        return start

    async def _start(self, shard: int) -> int:
        kind = str(self._doc.get("StartingPosition") or "LATEST")
        if kind == "TRIM_HORIZON":
            return 0
        if kind == "AT_TIMESTAMP":
            at = float(self._doc.get("StartingPositionTimestamp") or 0)
            return await self._backend.position_at(self._stream.id, shard, int(at * 1000))
        return await self._backend.end(self._stream.id, shard)

    async def receive(self, max_records: int, wait_s: float) -> list[Record]:
        count = self._stream.shard_count
        shards = (
            [self._current]
            if self._current is not None
            else [(self._next_shard + i) % count for i in range(count)]
        )
        for shard in shards:
            if self._current is None:
                self._cursor = await self._checkpoint(shard)
            found = await self._backend.read(self._stream.id, shard, self._cursor, max_records, 0)
            if found:
                self._current = shard
                self._cursor = found[-1].position + 1
                self._handed += len(found)
                return [record_of(self._stream, r, self._role) for r in found]
        return []

    @staticmethod
    def filter_view(item: dict[str, Any]) -> dict[str, Any]:
        return {"data": item["kinesis"]["data"]}

    def event(self, records: Sequence[Record]) -> bytes:
        return json.dumps({"Records": [r.item for r in records]}).encode()

    async def settle(self, records: Sequence[Record], outcome: Settlement) -> None:
        shard = self._current
        self._current, self._handed = None, 0
        if shard is None or not records:
            return
        self._next_shard = (shard + 1) % self._stream.shard_count
        if isinstance(outcome, Failure):
            if outcome.failed is None:
                return  # the checkpoint stays: the batch is read again
            failed = [r for r in records if r.record_id in outcome.failed]
            if failed:
                first = model.parse_sequence(self._stream, failed[0].record_id)
                if first is not None:
                    await self._save(shard, first[1])
                return
        await self._done(shard, records)

    async def _done(self, shard: int, records: Sequence[Record]) -> None:
        last = model.parse_sequence(self._stream, records[-1].record_id)
        if last is not None:
            await self._save(shard, last[1] + 1)

    async def _save(self, shard: int, position: int) -> None:
        await self._backend.set_checkpoint(self._mapping, self._stream.id, shard, position)

    async def discard(self, records: Sequence[Record]) -> None:
        """Records the filters dropped are done: a batch dropped whole moves the checkpoint
        now; otherwise the settle of the rest does (a dropped record after the last kept
        one may be read and dropped again: at least once)."""
        shard = self._current
        if shard is None or not records or len(records) < self._handed:
            return
        self._current, self._handed = None, 0
        self._next_shard = (shard + 1) % self._stream.shard_count
        await self._done(shard, records)

    async def backlog(self) -> Backlog:
        return Backlog()

    async def close(self) -> None:
        return None


def kinesis_factory(streams: Streams, role_of: Any) -> SourceFactory:
    async def build(doc: Doc) -> Source:
        arn = str(doc["EventSourceArn"])
        parts = arn.split(":")
        name = arn.rsplit("stream/", 1)[-1]
        stream = await streams.backend.get_stream(parts[4] if len(parts) > 4 else "", name)
        if stream is None:
            raise SourceUnavailable(f"no stream {arn}")
        return KinesisSource(streams, stream, doc, await role_of(doc))

    return build
