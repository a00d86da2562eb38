"""Rows to records and back, shared by the SQLite and PostgreSQL backends."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from lambent.sqs.model import NewMessage, QueueRecord, StoredMessage, VisibilityResult

# The columns a claim reads, in StoredMessage's order (receipt and visibility are set by it).
MESSAGE_COLUMNS = (
    "seq, message_id, body, attributes, md5_body, md5_attributes, system, group_id, "
    "dedup_id, sent_ms, receive_count, first_receive_ms"
)


def queue_doc(record: QueueRecord) -> str:
    return json.dumps(
        {
            "region": record.region,
            "created_ms": record.created_ms,
            "modified_ms": record.modified_ms,
            "attributes": record.attributes,
            "tags": record.tags,
            "last_purge_ms": record.last_purge_ms,
        },
        separators=(",", ":"),
    )


def queue_from(queue_id: str, account: str, name: str, doc: str) -> QueueRecord:
    data: dict[str, Any] = json.loads(doc)
    return QueueRecord(
        id=queue_id,
        account=account,
        region=data["region"],
        name=name,
        created_ms=int(data["created_ms"]),
        modified_ms=int(data["modified_ms"]),
        attributes=dict(data["attributes"]),
        tags=dict(data.get("tags") or {}),
        last_purge_ms=int(data.get("last_purge_ms") or 0),
    )


def message_values(queue_id: str, m: NewMessage) -> tuple[Any, ...]:
    return (
        queue_id,
        m.message_id,
        m.body,
        m.attributes,
        m.md5_body,
        m.md5_attributes,
        m.system,
        m.group_id,
        m.dedup_id,
        m.sent_ms,
        m.visible_at_ms,
        m.expires_ms,
    )


INSERT_COLUMNS = (
    "queue_id, message_id, body, attributes, md5_body, md5_attributes, system, group_id, "
    "dedup_id, sent_ms, visible_at_ms, expires_ms"
)


def stored(row: tuple[Any, ...], receipt: str, visible_at_ms: int, now_ms: int) -> StoredMessage:
    """A claimed row (MESSAGE_COLUMNS, before the claim's update) as received now."""
    count = int(row[10]) + 1
    first = int(row[11]) or now_ms
    return StoredMessage(
        seq=int(row[0]),
        message_id=str(row[1]),
        body=str(row[2]),
        attributes=str(row[3]),
        md5_body=str(row[4]),
        md5_attributes=str(row[5]),
        system=str(row[6]),
        group_id=row[7],
        dedup_id=row[8],
        sent_ms=int(row[9]),
        receive_count=count,
        first_receive_ms=first,
        receipt=receipt,
        visible_at_ms=visible_at_ms,
    )


def visibility_verdict(
    row: Sequence[Any] | None, receipt: str, visible_at: int, now: int, max_total_ms: int
) -> str:
    """A visibility change on (receipt, visible_at_ms, received_ms) as stored: only the
    latest receipt of a message in flight may change it, to at most 12 h after its
    receive (AWS)."""
    if row is None or row[0] != receipt:
        return VisibilityResult.STALE
    if int(row[1]) <= now:
        return VisibilityResult.NOT_IN_FLIGHT
    if visible_at - int(row[2]) > max_total_ms:
        return VisibilityResult.TOO_LONG
    return VisibilityResult.CHANGED


def receipt_tokens(count: int) -> list[str]:
    """`count` unguessable receipt tokens (80 bits each) from one read of random bytes."""
    raw = os.urandom(10 * count).hex()
    return [raw[i * 20 : i * 20 + 20] for i in range(count)]
