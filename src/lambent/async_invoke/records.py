"""What destinations and dead-letter targets receive, in AWS's shapes.

The invocation record (destinations):
    {"version": "1.0", "timestamp": "2019-11-14T18:16:05.568Z",
     "requestContext": {"requestId", "functionArn" (qualified), "condition",
                        "approximateInvokeCount"},
     "requestPayload": <the event>,
     "responseContext": {"statusCode": 200, "executedVersion", "functionError"?},
     "responsePayload": <what the function returned>}
`responseContext`/`responsePayload` are absent when the function never ran (throttled
until too old, reserved concurrency 0): there is no response to report.

The dead-letter message is the original event, untouched, with AWS's message attributes
(RequestID, ErrorCode, ErrorMessage) for targets that carry attributes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambent.async_invoke.event import QueuedEvent, Response
from lambent.async_invoke.policy import Condition

RECORD_VERSION = "1.0"


@dataclass(frozen=True, slots=True)
class Message:
    """One thing to hand to a target: a body and, for queues and topics, attributes."""

    body: bytes
    source_arn: str  # the function the message is about
    kind: str  # "destination" or "dead-letter"
    attributes: dict[str, str] = field(default_factory=dict)
    trace: str | None = None  # the chain's trace header, carried to a function target


def timestamp(now: float) -> str:
    """ISO 8601 in UTC with milliseconds, as AWS writes it: 2019-11-14T18:16:05.568Z."""
    stamp = datetime.fromtimestamp(now, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def json_or_text(raw: bytes) -> Any:
    """A payload as JSON when it is JSON; otherwise its text (never fails)."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def invocation_record(
    event: QueuedEvent,
    condition: Condition,
    function_arn: str,
    now: float,
    attempts: int,
    response: Response | None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "version": RECORD_VERSION,
        "timestamp": timestamp(now),
        "requestContext": {
            "requestId": event.event_id,
            "functionArn": function_arn,
            "condition": condition.value,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": json_or_text(event.payload),
    }
    if response is not None:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": response.executed_version}
        if response.function_error and condition is not Condition.SUCCESS:
            context["functionError"] = response.function_error
        record["responseContext"] = context
        record["responsePayload"] = json_or_text(response.payload)
    return record


def destination_message(
    record: dict[str, Any], source_arn: str, trace: str | None = None
) -> Message:
    body = json.dumps(record, separators=(",", ":")).encode()
    return Message(body=body, source_arn=source_arn, kind="destination", trace=trace)


def dead_letter_message(
    event: QueuedEvent, source_arn: str, response: Response | None, trace: str | None = None
) -> Message:
    attributes = {"RequestID": event.event_id}
    if response is not None:
        attributes["ErrorCode"] = "200"  # the function ran: its invoke answered 200
        error = json_or_text(response.payload)
        if isinstance(error, dict) and "errorMessage" in error:
            attributes["ErrorMessage"] = str(error["errorMessage"])
    return Message(
        body=event.payload,
        source_arn=source_arn,
        kind="dead-letter",
        attributes=attributes,
        trace=trace,
    )
