"""From a send request to a message the backend stores: SQS's checks per entry. Pure."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambent.sqs import attributes as attrs
from lambent.sqs import messages
from lambent.sqs.errors import InvalidParameterValue, MissingParameter, invalid_value
from lambent.sqs.model import NewMessage, QueueRecord

_NOT_FOR_TYPE = "The request include parameter that is not valid for this queue type."


@dataclass(frozen=True, slots=True)
class SendEntry:
    body: str | None
    delay_seconds: int | None = None
    attributes: Mapping[str, Mapping[str, Any]] | None = None
    system_attributes: Mapping[str, Mapping[str, Any]] | None = None
    group_id: str | None = None
    dedup_id: str | None = None


@dataclass(frozen=True, slots=True)
class SendContext:
    """What every entry of one send shares, worked out once: the queue's limits, the
    time, the sender, and message ids from one call for random bytes (a `uuid4` each
    asked the kernel for 16 bytes per message)."""

    queue: QueueRecord
    now_ms: int
    sender_json: str
    max_size: int
    delay_s: int
    retention_ms: int

    @classmethod
    def of(cls, queue: QueueRecord, now_ms: int, sender_id: str) -> SendContext:
        a = queue.attributes
        return cls(
            queue,
            now_ms,
            json.dumps(sender_id),
            attrs.int_attr(a, "MaximumMessageSize"),
            attrs.int_attr(a, "DelaySeconds"),
            attrs.int_attr(a, "MessageRetentionPeriod") * 1000,
        )


def message_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs from one read of the kernel's random bytes."""
    raw = os.urandom(16 * count)
    return [str(uuid.UUID(bytes=raw[i * 16 : i * 16 + 16], version=4)) for i in range(count)]


def prepare(ctx: SendContext, entry: SendEntry, message_id: str) -> NewMessage:
    queue, now_ms = ctx.queue, ctx.now_ms
    body = messages.check_body(entry.body)
    size = len(body.encode()) + messages.check_attributes(entry.attributes)
    limit = ctx.max_size
    if size > limit:
        raise InvalidParameterValue(
            f"One or more parameters are invalid. Reason: Message must be shorter than "
            f"{limit} bytes."
        )
    delay = ctx.delay_s if entry.delay_seconds is None else _delay(queue, entry)
    dedup_id = _fifo_checks(queue, entry, body) if queue.fifo or entry.dedup_id else None
    system = '{"SenderId":' + ctx.sender_json + "}"
    if entry.system_attributes:
        system = _with_trace(ctx, entry.system_attributes)
    return NewMessage(
        message_id=message_id,
        body=body,
        attributes=messages.attributes_json(entry.attributes),
        md5_body=messages.md5_hex(body.encode()),
        md5_attributes=messages.attributes_md5(entry.attributes or {}),
        system=system,
        md5_system=messages.attributes_md5(entry.system_attributes or {}),
        group_id=entry.group_id,
        dedup_id=dedup_id,
        sent_ms=now_ms,
        visible_at_ms=now_ms + delay * 1000,
        expires_ms=now_ms + ctx.retention_ms,
    )


def _with_trace(ctx: SendContext, system_attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """The stored system attributes: the sender and AWSTraceHeader, the only one a
    sender may set."""
    unknown = sorted(set(system_attributes) - {"AWSTraceHeader"})
    if unknown:
        raise InvalidParameterValue(f"Message system attribute name '{unknown[0]}' is invalid.")
    trace = str(system_attributes["AWSTraceHeader"].get("StringValue") or "")
    return '{"SenderId":' + ctx.sender_json + ',"AWSTraceHeader":' + json.dumps(trace) + "}"


def _delay(queue: QueueRecord, entry: SendEntry) -> int:
    assert entry.delay_seconds is not None
    if queue.fifo:
        raise invalid_value("DelaySeconds", entry.delay_seconds, _NOT_FOR_TYPE)
    if not 0 <= entry.delay_seconds <= 900:
        raise invalid_value(
            "DelaySeconds", entry.delay_seconds, "DelaySeconds must be >= 0 and <= 900."
        )
    return entry.delay_seconds


def _fifo_checks(queue: QueueRecord, entry: SendEntry, body: str) -> str | None:
    """The deduplication id a FIFO message has (given, or the body's SHA-256)."""
    if not queue.fifo:
        if entry.dedup_id is not None:
            raise invalid_value("MessageDeduplicationId", entry.dedup_id, _NOT_FOR_TYPE)
        return None
    if not entry.group_id:
        raise MissingParameter("The request must contain the parameter MessageGroupId.")
    if entry.dedup_id is not None:
        return entry.dedup_id
    if queue.attributes.get("ContentBasedDeduplication") != "true":
        raise InvalidParameterValue(
            "The queue should either have ContentBasedDeduplication enabled or "
            "MessageDeduplicationId provided explicitly"
        )
    return hashlib.sha256(body.encode()).hexdigest()
