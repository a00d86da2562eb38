"""The SQS source: a mapping's queue read as Lambda's SQS pollers read it.

Records are received through the queue service's domain API (sqs/service.py): a receive
claims messages for the queue's VisibilityTimeout (the mapping never changes it), and
FIFO queues hand out at most one in-flight batch per message group. Settling:

- success deletes every message of the batch;
- a function error or timeout (Failure of the whole batch) deletes nothing: the messages
  become visible again when their visibility timeout ends, and the queue's RedrivePolicy
  moves them to its dead-letter queue once received maxReceiveCount times;
- ReportBatchItemFailures deletes all but the listed messages; on a FIFO queue every
  message of a group after its first failed one is kept too, so the group's order holds
  across retries;
- records FilterCriteria dropped are deleted unseen (as Lambda does).

The event is AWS's (checked against aws-sam-cli's bundled
samcli/lib/generated_sample_events/events/sqs/Sqs.json and the Lambda developer guide's
FIFO example): Records[] of messageId, receiptHandle, body, attributes (ApproximateReceiveCount,
SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp, and on FIFO SequenceNumber,
MessageGroupId, MessageDeduplicationId), messageAttributes ({stringValue,
stringListValues, binaryListValues, dataType}), md5OfBody, eventSource "aws:sqs",
eventSourceARN, awsRegion.
"""

from __future__ import annotations

import base64
import json
import math
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
    Success,
)
from lambent.sqs import messages
from lambent.sqs.model import QueueRecord
from lambent.sqs.service import Queues, Received
from lambent.store.interface import Doc

# Lambda's SQS pollers scale to 1,250 concurrent invokes per queue; ScalingConfig caps lower.
DEFAULT_MAX_CONCURRENCY = 1250


def _message_attributes(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in messages.attributes_from_json(text).items():
        item: dict[str, Any] = {}
        if "StringValue" in value:
            item["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            item["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        item.update({"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]})
        out[name] = item
    return out


def _attributes(got: Received, fifo: bool) -> dict[str, str]:
    m = got.message
    extra: dict[str, Any] = json.loads(m.system) if m.system else {}
    out = {"ApproximateReceiveCount": str(m.receive_count), "SentTimestamp": str(m.sent_ms)}
    if fifo:
        out["SequenceNumber"] = f"{m.seq:020d}"
        if m.group_id is not None:
            out["MessageGroupId"] = m.group_id
    out["SenderId"] = str(extra.get("SenderId", ""))
    if fifo and m.dedup_id is not None:
        out["MessageDeduplicationId"] = m.dedup_id
    out["ApproximateFirstReceiveTimestamp"] = str(m.first_receive_ms)
    if extra.get("AWSTraceHeader"):
        out["AWSTraceHeader"] = str(extra["AWSTraceHeader"])
    return out


def record_of(got: Received, queue: QueueRecord) -> Record:
    m = got.message
    item = {
        "messageId": m.message_id,
        "receiptHandle": got.receipt_handle,
        "body": m.body,
        "attributes": _attributes(got, queue.fifo),
        "messageAttributes": _message_attributes(m.attributes),
        "md5OfBody": m.md5_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": queue.region,
    }
    size = len(json.dumps(item, separators=(",", ":")))
    return Record(m.message_id, item, size, m.group_id, m.sent_ms / 1000)


def kept_after_failure(records: Sequence[Record], failed: frozenset[str], fifo: bool) -> set[str]:
    """The ids that stay in the queue: the failed ones, and on FIFO every later message of
    a group that has a failure (so the group is retried in order)."""
    keep = set(failed)
    if fifo:
        broken: set[str | None] = set()
        for r in records:
            if r.record_id in failed:
                broken.add(r.group)
            elif r.group in broken:
                keep.add(r.record_id)
    return keep


class SqsSource:
    filter_key = ("body", False)

    def __init__(self, queues: Queues, queue: QueueRecord, doc: Doc) -> None:
        self._queues = queues
        self._queue = queue
        self.batch_size = int(doc.get("BatchSize") or 10)
        self.window_s = float(doc.get("MaximumBatchingWindowInSeconds") or 0)
        self.max_concurrency = DEFAULT_MAX_CONCURRENCY

    async def receive(self, max_records: int, wait_s: float) -> list[Record]:
        got = await self._queues.receive(
            self._queue, max_messages=max_records, wait_s=math.ceil(max(0.0, wait_s))
        )
        return [record_of(g, self._queue) for g in got]

    def event(self, records: Sequence[Record]) -> bytes:
        return json.dumps({"Records": [r.item for r in records]}).encode()

    async def settle(self, records: Sequence[Record], outcome: Settlement) -> None:
        if isinstance(outcome, Failure):
            if outcome.failed is None:
                return  # all of it comes back after the visibility timeout
            keep = kept_after_failure(records, outcome.failed, self._queue.fifo)
        else:
            assert isinstance(outcome, Success)
            keep = set()
        await self._delete([r for r in records if r.record_id not in keep])

    async def discard(self, records: Sequence[Record]) -> None:
        await self._delete(records)

    async def _delete(self, records: Sequence[Record]) -> None:
        if records:
            await self._queues.delete(self._queue, [r.item["receiptHandle"] for r in records])

    async def backlog(self) -> Backlog:
        counts = await self._queues.counts(self._queue)
        return Backlog(counts.visible, 0.0, {"in_flight": counts.in_flight})

    async def close(self) -> None:
        return None


def sqs_factory(queues: Queues) -> SourceFactory:
    async def build(doc: Doc) -> Source:
        queue = await queues.catalog.by_arn(str(doc["EventSourceArn"]))
        if queue is None:
            raise SourceUnavailable(f"no queue {doc['EventSourceArn']}")
        return SqsSource(queues, queue, doc)

    return build
