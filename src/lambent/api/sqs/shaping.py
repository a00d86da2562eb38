"""Received messages in the API's shape: the system attributes and message attributes the
caller asked for, and the MD5 of the attributes returned (what boto3 verifies). Pure."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from lambent.sqs import messages
from lambent.sqs.service import Received

SYSTEM_NAMES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


def system_wanted(*lists: Iterable[str] | None) -> set[str]:
    names: set[str] = set()
    for names_list in lists:
        names.update(names_list or ())
    if "All" in names:
        return set(SYSTEM_NAMES)
    return names


def _system(got: Received, fifo: bool) -> dict[str, str]:
    m = got.message
    extra: dict[str, Any] = json.loads(m.system) if m.system else {}
    out = {
        "SenderId": str(extra.get("SenderId", "")),
        "SentTimestamp": str(m.sent_ms),
        "ApproximateReceiveCount": str(m.receive_count),
        "ApproximateFirstReceiveTimestamp": str(m.first_receive_ms),
    }
    if m.group_id is not None:
        out["MessageGroupId"] = m.group_id
    if fifo:
        out["SequenceNumber"] = f"{m.seq:020d}"
        if m.dedup_id is not None:
            out["MessageDeduplicationId"] = m.dedup_id
    if extra.get("AWSTraceHeader"):
        out["AWSTraceHeader"] = str(extra["AWSTraceHeader"])
    return out


def _attribute_filter(names: list[str] | None) -> Any:
    names = names or []
    if "All" in names or ".*" in names:
        return lambda _name: True
    prefixes = tuple(n[:-1] for n in names if n.endswith(".*"))
    exact = set(names)
    return lambda name: name in exact or (prefixes and name.startswith(prefixes))


def message(
    got: Received, fifo: bool, system: set[str], attribute_names: list[str] | None
) -> dict[str, Any]:
    m = got.message
    out: dict[str, Any] = {
        "MessageId": m.message_id,
        "ReceiptHandle": got.receipt_handle,
        "MD5OfBody": m.md5_body,
        "Body": m.body,
    }
    if system:
        found = _system(got, fifo)
        out["Attributes"] = {k: v for k, v in found.items() if k in system}
    keep = _attribute_filter(attribute_names)
    stored = messages.attributes_from_json(m.attributes)
    chosen = {k: v for k, v in stored.items() if keep(k)}
    if chosen:
        out["MessageAttributes"] = chosen
        out["MD5OfMessageAttributes"] = messages.attributes_md5(chosen)
    return out
