"""The invocation record and dead-letter message, field by field, as AWS writes them."""

from __future__ import annotations

import json

import pytest

from lambent.async_invoke.config import async_config
from lambent.async_invoke.event import Destination, EventState, QueuedEvent, Response
from lambent.async_invoke.policy import Condition, RetryConfig
from lambent.async_invoke.records import (
    dead_letter_message,
    destination_message,
    invocation_record,
    json_or_text,
    timestamp,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
EVENT = QueuedEvent(
    "5a1c2b3d-0000-4000-8000-000000000001",
    Destination("123456789012", ARN),
    b'{"order": 7}',
    EventState(enqueued_at=1_700_000_000.0),
    available_at=1_700_000_000.0,
)
FAILED = Response(
    b'{"errorMessage":"boom","errorType":"ValueError","stackTrace":[]}', "$LATEST", "Unhandled"
)


def test_timestamp_is_utc_iso_with_milliseconds() -> None:
    assert timestamp(1_573_755_365.568) == "2019-11-14T18:16:05.568Z"
    assert timestamp(0.0) == "1970-01-01T00:00:00.000Z"


def test_failure_record_after_retries() -> None:
    record = invocation_record(
        EVENT, Condition.RETRIES_EXHAUSTED, f"{ARN}:$LATEST", 1_573_755_365.568, 3, FAILED
    )
    assert record == {
        "version": "1.0",
        "timestamp": "2019-11-14T18:16:05.568Z",
        "requestContext": {
            "requestId": EVENT.event_id,
            "functionArn": f"{ARN}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": {"order": 7},
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []},
    }


def test_success_record_has_no_function_error() -> None:
    ok = Response(b'"done"', "3")
    record = invocation_record(EVENT, Condition.SUCCESS, f"{ARN}:live", 0.0, 1, ok)
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["functionArn"] == f"{ARN}:live"
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "3"}
    assert record["responsePayload"] == "done"


@pytest.mark.parametrize(
    "condition", [Condition.EVENT_AGE_EXCEEDED, Condition.ZERO_RESERVED_CONCURRENCY]
)
def test_a_record_without_a_response_has_no_response_context(condition: Condition) -> None:
    record = invocation_record(EVENT, condition, f"{ARN}:$LATEST", 0.0, 0, None)
    assert set(record) == {"version", "timestamp", "requestContext", "requestPayload"}
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestContext"]["condition"] == condition.value


def test_payloads_that_are_not_json_travel_as_text() -> None:
    assert json_or_text(b"plain") == "plain"
    assert json_or_text(b"") is None
    assert json_or_text(b"null") is None
    assert json_or_text(b"[1,2]") == [1, 2]
    assert json_or_text(b"\xff") == "\ufffd"


def test_destination_message_is_the_record_as_json() -> None:
    record = invocation_record(EVENT, Condition.SUCCESS, f"{ARN}:$LATEST", 0.0, 1, None)
    message = destination_message(record, ARN)
    assert json.loads(message.body) == record
    assert message.kind == "destination"


def test_dead_letter_message_is_the_original_event_with_attributes() -> None:
    message = dead_letter_message(EVENT, ARN, FAILED)
    assert message.body == EVENT.payload  # byte for byte, not re-encoded
    assert message.attributes == {
        "RequestID": EVENT.event_id,
        "ErrorCode": "200",
        "ErrorMessage": "boom",
    }
    throttled = dead_letter_message(EVENT, ARN, None)
    assert throttled.attributes == {"RequestID": EVENT.event_id}


def test_async_config_defaults_and_overrides() -> None:
    assert async_config(None, None).retry == RetryConfig(max_retries=2, max_age_s=21600)
    cfg = async_config(
        {
            "MaximumRetryAttempts": 0,
            "MaximumEventAgeInSeconds": 60,
            "DestinationConfig": {
                "OnSuccess": {},
                "OnFailure": {"Destination": f"{ARN}-sink"},
            },
        },
        {"DeadLetterConfig": {"TargetArn": f"{ARN}-dlq"}},
    )
    assert cfg.retry == RetryConfig(max_retries=0, max_age_s=60)
    assert (cfg.on_success, cfg.on_failure, cfg.dead_letter) == (
        None,
        f"{ARN}-sink",
        f"{ARN}-dlq",
    )
