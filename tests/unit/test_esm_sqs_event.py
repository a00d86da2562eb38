"""The SQS event a mapping sends, against aws-sam-cli's bundled sample
(samcli/lib/generated_sample_events/events/sqs/Sqs.json: its keys and their order, copied
here as key lists only), and FIFO's order-keeping partial failures."""

from __future__ import annotations

import json

from lambent.event_sources.pollers.source import Record
from lambent.event_sources.pollers.sqs import kept_after_failure, record_of
from lambent.sqs.model import QueueRecord, StoredMessage
from lambent.sqs.service import Received

SAM_RECORD_KEYS = [
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
]
SAM_ATTRIBUTE_KEYS = [
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
]


def message(**kw: object) -> StoredMessage:
    base: dict[str, object] = {
        "seq": 7,
        "message_id": "19dd0b57-b21e-4ac1-bd88-01bbb068cb78",
        "body": "hello",
        "attributes": json.dumps({"a": {"DataType": "String", "StringValue": "v"}}),
        "md5_body": "5d41402abc4b2a76b9719d911017c592",
        "md5_attributes": "",
        "system": json.dumps({"SenderId": "123456789012"}),
        "group_id": None,
        "dedup_id": None,
        "sent_ms": 1523232000000,
        "receive_count": 1,
        "first_receive_ms": 1523232000001,
        "receipt": "r",
        "visible_at_ms": 0,
    }
    base.update(kw)
    return StoredMessage(**base)  # type: ignore[arg-type]


def queue(fifo: bool = False) -> QueueRecord:
    attrs = {"FifoQueue": "true"} if fifo else {}
    return QueueRecord("q1", "123456789012", "us-east-1", "q.fifo" if fifo else "q", 0, 0, attrs)


def test_a_standard_record_has_sams_keys_in_sams_order() -> None:
    rec = record_of(Received(message(), "handle"), queue())
    assert list(rec.item) == SAM_RECORD_KEYS
    assert list(rec.item["attributes"]) == SAM_ATTRIBUTE_KEYS
    assert rec.item["attributes"]["SenderId"] == "123456789012"
    assert rec.item["eventSource"] == "aws:sqs"
    assert rec.item["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:q"
    assert rec.item["messageAttributes"] == {
        "a": {
            "stringValue": "v",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }


def test_a_fifo_record_carries_its_group_and_sequence() -> None:
    rec = record_of(Received(message(group_id="g", dedup_id="d"), "h"), queue(fifo=True))
    attrs = rec.item["attributes"]
    assert attrs["MessageGroupId"] == "g" and attrs["MessageDeduplicationId"] == "d"
    assert attrs["SequenceNumber"] == "00000000000000000007"


def test_fifo_keeps_everything_after_a_groups_first_failure() -> None:
    recs = [Record(i, {}, 1, g) for i, g in [("1", "a"), ("2", "b"), ("3", "a"), ("4", "b")]]
    assert kept_after_failure(recs, frozenset({"1"}), fifo=True) == {"1", "3"}
    assert kept_after_failure(recs, frozenset({"1"}), fifo=False) == {"1"}
