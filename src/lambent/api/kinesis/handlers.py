"""Kinesis operations on the wire: thin, over the stream service (kinesis/service.py).
Streams are named by StreamName or StreamARN, as current SDKs may send either."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from botocore.model import Shape

from lambent.api import validation
from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.kinesis import model
from lambent.kinesis.errors import InvalidArgument
from lambent.kinesis.model import StreamRecord
from lambent.kinesis.service import Entry, Streams

MAX_LIST = 10_000
_MODE = {"StreamMode": "PROVISIONED"}


class KinesisHandlers(ServiceHandlers):
    service = "kinesis"
    # PutRecords' 500 entries are checked by a lean loop first (the model's generic check
    # costs more than storing them); only a batch that fails it gets the model's check, so
    # every message is still the model's.
    checks_itself: ClassVar[Mapping[str, frozenset[str]]] = {
        "PutRecords": frozenset({"Records"}),
    }

    def __init__(self, streams: Streams, put_records: Shape | None = None) -> None:
        self._streams = streams
        self._put_records = put_records

    def _name(self, params: dict[str, Any]) -> str:
        name = params.get("StreamName")
        arn = params.get("StreamARN")
        if arn:
            name = str(arn).rsplit("stream/", 1)[-1]
        if not name:
            raise InvalidArgument("Either StreamName or StreamARN should be provided.")
        return str(name)

    async def _stream(self, ctx: RequestContext, params: dict[str, Any]) -> StreamRecord:
        return await self._streams.find(ctx.account_id, self._name(params))

    # -- streams -------------------------------------------------------------------------
    async def create_stream(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        mode = (params.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
        shards = params.get("ShardCount")
        if shards is None:
            shards = 4 if mode == "ON_DEMAND" else None
        if shards is None:
            raise InvalidArgument("ShardCount is required for a PROVISIONED stream.")
        await self._streams.create(ctx.account_id, ctx.region, params["StreamName"], shards)

    async def delete_stream(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._streams.delete(ctx.account_id, self._name(params))

    async def describe_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        s = await self._stream(ctx, params)
        shards = _shards(s, params.get("ExclusiveStartShardId"), params.get("Limit") or 100)
        return {
            "StreamDescription": {
                **_summary(s),
                "Shards": shards,
                "HasMoreShards": bool(shards) and shards[-1]["ShardId"] != _last(s),
            }
        }

    async def describe_stream_summary(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        s = await self._stream(ctx, params)
        return {
            "StreamDescriptionSummary": {
                **_summary(s),
                "OpenShardCount": s.shard_count,
                "ConsumerCount": 0,
            }
        }

    async def list_shards(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        token = params.get("NextToken")
        if token:
            if params.get("StreamName"):
                raise InvalidArgument("NextToken and StreamName cannot be provided together.")
            name, after = str(token).split("|", 1)
            params = {"StreamName": name, "ExclusiveStartShardId": after or None}
        s = await self._stream(ctx, params)
        limit = params.get("MaxResults") or 1000
        shards = _shards(s, params.get("ExclusiveStartShardId"), limit)
        out: dict[str, Any] = {"Shards": shards}
        if shards and shards[-1]["ShardId"] != _last(s):
            out["NextToken"] = f"{s.name}|{shards[-1]['ShardId']}"
        return out

    async def list_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("Limit") or 100
        after = str(params.get("NextToken") or params.get("ExclusiveStartStreamName") or "")
        page = await self._streams.page(ctx.account_id, after, limit + 1)
        shown = page[:limit]
        out: dict[str, Any] = {
            "StreamNames": [s.name for s in shown],
            "HasMoreStreams": len(page) > limit,
            "StreamSummaries": [
                {
                    "StreamName": s.name,
                    "StreamARN": s.arn,
                    "StreamStatus": "ACTIVE",
                    "StreamModeDetails": _MODE,
                    "StreamCreationTimestamp": _time(s.created_ms),
                }
                for s in shown
            ],
        }
        if len(page) > limit:
            out["NextToken"] = shown[-1].name
        return out

    async def increase_stream_retention_period(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> None:
        hours = int(params["RetentionPeriodHours"])
        await self._streams.set_retention(ctx.account_id, self._name(params), hours, True)

    async def decrease_stream_retention_period(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> None:
        hours = int(params["RetentionPeriodHours"])
        await self._streams.set_retention(ctx.account_id, self._name(params), hours, False)

    # -- records -------------------------------------------------------------------------
    async def put_record(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = Entry(params["PartitionKey"], params["Data"], params.get("ExplicitHashKey"))
        (put,) = await self._streams.put(ctx.account_id, self._name(params), [entry])
        return {
            "ShardId": put.shard_id,
            "SequenceNumber": put.sequence_number,
            "EncryptionType": "NONE",
        }

    async def put_records(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not _clean(params.get("Records")):
            validation.validate(self._put_records, {"Records": params.get("Records")})
        entries = [
            Entry(r["PartitionKey"], r["Data"], r.get("ExplicitHashKey")) for r in params["Records"]
        ]
        puts = await self._streams.put(ctx.account_id, self._name(params), entries)
        return {
            "FailedRecordCount": 0,
            "Records": [{"ShardId": p.shard_id, "SequenceNumber": p.sequence_number} for p in puts],
            "EncryptionType": "NONE",
        }

    async def get_shard_iterator(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        stamp = params.get("Timestamp")
        at_ms = int(stamp.timestamp() * 1000) if isinstance(stamp, dt.datetime) else None
        iterator = await self._streams.iterator(
            ctx.account_id,
            self._name(params),
            params["ShardId"],
            params["ShardIteratorType"],
            params.get("StartingSequenceNumber"),
            at_ms,
        )
        return {"ShardIterator": iterator}

    async def get_records(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        batch = await self._streams.get_records(
            params["ShardIterator"], params.get("Limit") or 10_000
        )
        return {
            "Records": [
                {
                    "SequenceNumber": seq,
                    "ApproximateArrivalTimestamp": _time(r.arrival_ms),
                    "Data": r.data,
                    "PartitionKey": r.partition_key,
                }
                for r, seq in zip(batch.records, batch.sequence_numbers, strict=True)
            ],
            "NextShardIterator": batch.next_iterator,
            "MillisBehindLatest": batch.millis_behind,
        }


_HASH_KEY = re.compile(r"0|([1-9]\d{0,38})")
MAX_DATA = 10 * 1024 * 1024


def _clean(records: Any) -> bool:
    """Whether every PutRecords entry meets the model's constraints (the common case)."""
    if not isinstance(records, list) or not 1 <= len(records) <= 500:
        return False
    for r in records:
        key = r.get("PartitionKey")
        data = r.get("Data")
        explicit = r.get("ExplicitHashKey")
        if not isinstance(key, str) or not 1 <= len(key) <= 256:
            return False
        if not isinstance(data, bytes) or len(data) > MAX_DATA:
            return False
        if explicit is not None and not _HASH_KEY.fullmatch(explicit):
            return False
    return True


def _time(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def _last(s: StreamRecord) -> str:
    return model.shard_id(s.shard_count - 1)


def _summary(s: StreamRecord) -> dict[str, Any]:
    return {
        "StreamName": s.name,
        "StreamARN": s.arn,
        "StreamStatus": "ACTIVE",
        "StreamModeDetails": _MODE,
        "RetentionPeriodHours": s.retention_hours,
        "StreamCreationTimestamp": _time(s.created_ms),
        "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
        "EncryptionType": "NONE",
    }


def _shards(s: StreamRecord, after: str | None, limit: int) -> list[dict[str, Any]]:
    start = 0
    if after:
        index = model.shard_index(after, s.shard_count)
        start = s.shard_count if index is None else index + 1
    out = []
    for i in range(start, min(s.shard_count, start + limit)):
        low, high = model.hash_range(i, s.shard_count)
        out.append(
            {
                "ShardId": model.shard_id(i),
                "HashKeyRange": {"StartingHashKey": str(low), "EndingHashKey": str(high)},
                "SequenceNumberRange": {"StartingSequenceNumber": model.sequence_number(s, i, 0)},
            }
        )
    return out
