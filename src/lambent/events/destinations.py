"""Async invoke's destinations and dead-letter targets on SQS queues and EventBridge buses
(issue 11 §6), registered in `async_invoke.targets.Targets` by the App.

SQS: a destination record is the message body; a dead letter is the event's payload with
AWS's String message attributes `RequestID`, `ErrorCode`, `ErrorMessage`. Lambda sends
with the function's execution role, whose identity policies Lambent does not evaluate: a
queue of the function's account takes it, another account's needs its queue policy to
allow that account `sqs:SendMessage`.
EventBridge: the record becomes the `detail` of an event with source `lambda` and
detail-type `Lambda Function Invocation Result - Success` (or `- Failure`), resources the
bus and the function, written to the bus's outbox like an accepted PutEvents entry.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from lambent.async_invoke.records import Message
from lambent.async_invoke.targets import TargetError
from lambent.clock import Clock
from lambent.errors import ServiceError
from lambent.events import names
from lambent.sqs.access import may_access
from lambent.sqs.sending import SendEntry
from lambent.sqs.service import Queues


def _account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


class SqsDestination:
    service = "sqs"

    def __init__(self, queues: Queues) -> None:
        self._queues = queues

    async def send(self, arn: str, message: Message) -> None:
        queue = await self._queues.catalog.by_arn(arn)
        if queue is None:
            raise TargetError(f"queue {arn} does not exist")
        sender = _account(message.source_arn)
        role = f"arn:aws:iam::{sender}:root"
        if not may_access(queue, "SendMessage", sender, role):
            raise TargetError(f"the policy of {arn} does not allow {sender} to send")
        attributes = {
            k: {"DataType": "String", "StringValue": v} for k, v in message.attributes.items()
        }
        entry = SendEntry(message.body.decode("utf-8", "replace"), attributes=attributes or None)
        if queue.fifo:
            entry = SendEntry(
                entry.body,
                attributes=entry.attributes,
                group_id="lambda",
                dedup_id=str(uuid.uuid4()),
            )
        (result,) = await self._queues.send(queue, [entry], "AIDALAMBDA")
        if isinstance(result, ServiceError):
            raise result


# (items for the outbox) -> None
AddToOutbox = Callable[[list[dict[str, Any]]], Awaitable[None]]


class BusDestination:
    service = "events"

    def __init__(self, add: AddToOutbox, clock: Clock) -> None:
        self._add = add
        self._clock = clock

    async def send(self, arn: str, message: Message) -> None:
        parts = names.arn_parts(arn)
        if parts is None or not parts[3].startswith("event-bus/"):
            raise TargetError(f"not an event bus ARN: {arn}")
        _, region, account, resource = parts
        record = json.loads(message.body)
        condition = (record.get("requestContext") or {}).get("condition")
        outcome = "Success" if condition == "Success" else "Failure"
        now = self._clock.time()
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": f"Lambda Function Invocation Result - {outcome}",
            "source": "lambda",
            "account": _account(message.source_arn),
            "time": dt.datetime.fromtimestamp(now, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": [arn, message.source_arn],
            "detail": record,
        }
        bus = resource[len("event-bus/") :]
        await self._add([{"event": event, "account": account, "bus": bus, "region": region}])
