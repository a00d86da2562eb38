"""From a send request to a message the backend stores: SQS's checks per entry. Pure."""

from __future__ import annotations

import hashlib
import json
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


def prepare(queue: QueueRecord, entry: SendEntry, now_ms: int, sender_id: str) -> NewMessage:
    body = messages.check_body(entry.body)
    size = len(body.encode()) + messages.check_attributes(entry.attributes)
    limit = attrs.int_attr(queue.attributes, "MaximumMessageSize")
    if size > limit:
        raise InvalidParameterValue(
            f"One or more parameters are invalid. Reason: Message must be shorter than "
            f"{limit} bytes."
        )
    delay = _delay(queue, entry)
    dedup_id = _fifo_checks(queue, entry, body)
    system: dict[str, Any] = {"SenderId": sender_id}
    trace = (entry.system_attributes or {}).get("AWSTraceHeader")
    if entry.system_attributes and set(entry.system_attributes) - {"AWSTraceHeader"}:
        raise InvalidParameterValue(
            "Message system attribute name '"
            + sorted(set(entry.system_attributes) - {"AWSTraceHeader"})[0]
            + "' is invalid."
        )
    if trace is not None:
        system["AWSTraceHeader"] = str(trace.get("StringValue") or "")
    retention = attrs.int_attr(queue.attributes, "MessageRetentionPeriod") * 1000
    return NewMessage(
        message_id=str(uuid.uuid4()),
        body=body,
        attributes=messages.attributes_json(entry.attributes),
        md5_body=messages.md5_hex(body.encode()),
        md5_attributes=messages.attributes_md5(entry.attributes or {}),
        system=json.dumps(system, separators=(",", ":")),
        md5_system=messages.attributes_md5(entry.system_attributes or {}),
        group_id=entry.group_id,
        dedup_id=dedup_id,
        sent_ms=now_ms,
        visible_at_ms=now_ms + delay * 1000,
        expires_ms=now_ms + retention,
    )


def _delay(queue: QueueRecord, entry: SendEntry) -> int:
    if entry.delay_seconds is None:
        return attrs.int_attr(queue.attributes, "DelaySeconds")
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
