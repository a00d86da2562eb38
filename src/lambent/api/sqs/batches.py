"""SQS's rules for batch requests: 1-10 entries, distinct well-formed ids. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lambent.errors import ServiceError
from lambent.sqs.errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    TooManyEntriesInBatchRequest,
)

MAX_ENTRIES = 10
_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


def check(entries: Sequence[dict[str, Any]] | None, entry_shape: str) -> Sequence[dict[str, Any]]:
    if not entries:
        raise EmptyBatchRequest(f"There should be at least one {entry_shape} in the request.")
    if len(entries) > MAX_ENTRIES:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {MAX_ENTRIES}. "
            f"You have sent {len(entries)}."
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = str(entry.get("Id", ""))
        if not _ID.fullmatch(entry_id):
            raise InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                "underscores. It can be at most 80 letters long."
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)
    return entries


def failure(entry_id: str, err: ServiceError) -> dict[str, Any]:
    from lambent.errors import ClientError

    return {
        "Id": entry_id,
        "SenderFault": isinstance(err, ClientError),
        "Code": err.code,
        "Message": err.message,
    }


def check_size(entries: Sequence[dict[str, Any]]) -> None:
    """A SendMessageBatch's messages together: at most 1 MiB (AWS)."""
    from lambent.sqs.attributes import MAX_MESSAGE_SIZE
    from lambent.sqs.errors import BatchRequestTooLong

    total = 0
    for entry in entries:
        total += len(str(entry.get("MessageBody") or "").encode())
        for name, value in (entry.get("MessageAttributes") or {}).items():
            raw = value.get("StringValue") or value.get("BinaryValue") or ""
            size = len(raw) if isinstance(raw, bytes) else len(str(raw).encode())
            total += len(name.encode()) + len(str(value.get("DataType", "")).encode()) + size
    if total > MAX_MESSAGE_SIZE:
        raise BatchRequestTooLong(
            f"Batch requests cannot be longer than {MAX_MESSAGE_SIZE} bytes. "
            f"You have sent {total} bytes."
        )
