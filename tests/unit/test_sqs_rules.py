"""The queue service's pure rules: attributes, message checks and digests, receipts,
redrive policies and queue policies."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lambent.sqs import access, attributes, messages, names, receipts, redrive
from lambent.sqs.errors import (
    InvalidAddress,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
    ReceiptHandleIsInvalid,
)
from lambent.sqs.model import QueueRecord


def _queue(**attrs: str) -> QueueRecord:
    return QueueRecord(
        "id1", "111111111111", "us-east-1", "q", 0, 0, {**attributes.defaults(False), **attrs}
    )


def test_digests_match_aws_documented_example() -> None:
    """awscli's examples/sqs/send-message.rst shows AWS's answer (digests shortened to
    their first and last 8 hex digits); the CLI v1 of that era sent the Binary value's
    base64 text as its bytes."""
    given: dict[str, dict[str, Any]] = {
        "City": {"DataType": "String", "StringValue": "Any City"},
        "Greeting": {"DataType": "Binary", "BinaryValue": base64.b64encode(b"Hello, World!")},
        "Population": {"DataType": "Number", "StringValue": "1250800"},
    }
    digest = messages.attributes_md5(given)
    assert digest[:8] == "00484c68" and digest[-8:] == "59e48f06"
    body = messages.md5_hex(b"Information about the largest city in Any Region.")
    assert body[:8] == "51b0a325" and body[-8:] == "39163aa0"
    assert messages.attributes_md5({}) == ""


def test_message_checks() -> None:
    with pytest.raises(MissingParameter):
        messages.check_body("")
    with pytest.raises(InvalidMessageContents):
        messages.check_body("a\x00b")
    assert messages.check_body("ok \U0001f600") == "ok \U0001f600"
    with pytest.raises(InvalidParameterValue, match="non-empty value of type 'String'"):
        messages.check_attributes({"x": {"DataType": "String", "StringValue": ""}})
    with pytest.raises(InvalidParameterValue, match="is invalid"):
        messages.check_attributes({"AWS.x": {"DataType": "String", "StringValue": "v"}})
    with pytest.raises(InvalidParameterValue, match="cast"):
        messages.check_attributes({"x": {"DataType": "Number", "StringValue": "one"}})
    too_many = {f"k{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    with pytest.raises(InvalidParameterValue, match="exceeds"):
        messages.check_attributes(too_many)
    assert messages.check_attributes({"ab": {"DataType": "String", "StringValue": "xyz"}}) == 11


def test_queue_attribute_rules() -> None:
    assert attributes.settable({"VisibilityTimeout": " 60"}, fifo=False, creating=True) == {
        "VisibilityTimeout": "60"
    }
    with pytest.raises(InvalidAttributeValue):
        attributes.settable({"DelaySeconds": "901"}, fifo=False, creating=True)
    with pytest.raises(InvalidAttributeName):
        attributes.settable({"ContentBasedDeduplication": "true"}, fifo=False, creating=True)
    with pytest.raises(InvalidAttributeName):
        attributes.settable({"FifoQueue": "true"}, fifo=True, creating=False)
    assert attributes.defaults(True)["DeduplicationScope"] == "queue"
    assert attributes.defaults(False)["MaximumMessageSize"] == "1048576"
    assert "QueueArn" in attributes.wanted(["All"])


def test_names_urls_and_receipts() -> None:
    assert names.parse_url("http://h:1/123456789012/q") == ("123456789012", "q")
    with pytest.raises(InvalidAddress):
        names.parse_url("q")
    names.check_name("a-b_c", fifo=False)
    with pytest.raises(InvalidParameterValue):
        names.check_name("x.fifo", fifo=False)
    with pytest.raises(InvalidParameterValue):
        names.check_name("x", fifo=True)
    handle = receipts.make("qid", 7, "tok")
    assert receipts.parse(handle) == ("qid", 7, "tok")
    with pytest.raises(ReceiptHandleIsInvalid):
        receipts.parse("nonsense")


def test_redrive_policies() -> None:
    arn = "arn:aws:sqs:us-east-1:111111111111:dlq"
    text, target = redrive.redrive_target(
        json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})
    )
    assert target == arn and json.loads(text)["maxReceiveCount"] == 3
    with pytest.raises(InvalidParameterValue, match="maxReceiveCount"):
        redrive.redrive_target(json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 0}))
    assert json.loads(redrive.check_redrive_allow('{"redrivePermission":"denyAll"}')) == {
        "redrivePermission": "denyAll"
    }
    with pytest.raises(InvalidParameterValue):
        redrive.check_redrive_allow('{"redrivePermission":"byQueue"}')


OWNER = ("111111111111", "arn:aws:iam::111111111111:root")
OTHER = ("222222222222", "arn:aws:iam::222222222222:root")
TOPIC = "arn:aws:sns:us-east-1:111111111111:t"


def test_queue_policies_for_accounts_and_services() -> None:
    queue = _queue()
    assert access.may_access(queue, "SendMessage", *OWNER)
    assert not access.may_access(queue, "SendMessage", *OTHER)
    assert not access.may_send(queue, "sns.amazonaws.com", TOPIC)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "222222222222"},
                "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
                "Resource": queue.arn,
            },
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue.arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC}},
            },
        ],
    }
    allowed = _queue(Policy=json.dumps(policy))
    assert access.may_access(allowed, "SendMessage", *OTHER)
    assert not access.may_access(allowed, "DeleteQueue", *OTHER)
    assert access.may_send(allowed, "sns.amazonaws.com", TOPIC)
    assert not access.may_send(allowed, "sns.amazonaws.com", "arn:aws:sns:us-east-1:111111111111:u")
    assert not access.may_send(allowed, "events.amazonaws.com", None)
