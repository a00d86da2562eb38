"""Stream records to and from the text a backend's row stores (both backends share it)."""

from __future__ import annotations

import json
from typing import Any

from lambent.kinesis.model import StoredRecord, StreamRecord


def stream_doc(record: StreamRecord) -> str:
    return json.dumps(
        {
            "region": record.region,
            "shard_count": record.shard_count,
            "retention_hours": record.retention_hours,
            "created_ms": record.created_ms,
        }
    )


def stream_of(stream_id: str, account: str, name: str, doc: str) -> StreamRecord:
    d = json.loads(doc)
    return StreamRecord(
        id=stream_id,
        account=account,
        name=name,
        region=d["region"],
        shard_count=d["shard_count"],
        retention_hours=d["retention_hours"],
        created_ms=d["created_ms"],
    )


def with_retention(doc: str, hours: int) -> str:
    d = json.loads(doc)
    d["retention_hours"] = hours
    return json.dumps(d)


def stored(shard: int, row: tuple[Any, ...]) -> StoredRecord:
    position, key, data, arrival = row
    return StoredRecord(shard, int(position), str(key), bytes(data), int(arrival))
