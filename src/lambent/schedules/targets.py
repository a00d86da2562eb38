"""Where a fired schedule goes: its Target's ARN names a Lambda function (an asynchronous
invoke through async_invoke, so the function's own retries, destinations and DLQ apply,
as when AWS's Scheduler calls Invoke with InvocationType Event) or an SQS queue (a send
through the queue service). `RoleArn` is recorded and shown, not assumed: Lambent has no
separate execution identity for the scheduler, and delivers as the schedule's account.
An SNS topic ARN is a Publish of the payload through the SNS service (sns/)."""

from __future__ import annotations

import json
import uuid
from typing import Any, Protocol

from lambent.sqs.sending import SendEntry
from lambent.sqs.service import Queues


class TargetFailed(Exception):
    """A delivery attempt failed; `code` is what the dead-letter message reports."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class FunctionSender(Protocol):
    async def send_to_function(
        self,
        account: str,
        function: str,
        qualifier: str | None,
        payload: bytes,
        trace: str | None = None,
    ) -> str: ...


class TopicPublisher(Protocol):
    async def publish(
        self,
        topic_arn: str,
        message: str,
        subject: str | None = None,
        attributes: Any = None,
        structure: str | None = None,
    ) -> str: ...


class Targets:
    def __init__(
        self,
        functions: FunctionSender,
        queues: Queues | None,
        topics: TopicPublisher | None = None,
    ) -> None:
        self._functions = functions
        self._queues = queues
        self._topics = topics

    async def deliver(self, target: dict[str, Any], body: str) -> None:
        arn = str(target["Arn"])
        parts = arn.split(":")
        if len(parts) < 6 or parts[0] != "arn":
            raise TargetFailed("InvalidTarget", f"Not a target ARN: {arn}")
        service, account = parts[2], parts[4]
        if service == "lambda" and parts[5] == "function" and len(parts) >= 7:
            qualifier = parts[7] if len(parts) > 7 else None
            await self._to_function(account, parts[6], qualifier, body)
        elif service == "sqs":
            params = target.get("SqsParameters") or {}
            await self.to_queue(account, parts[5], body, params.get("MessageGroupId"), None)
        elif service == "sns" and self._topics is not None:
            await self._to_topic(arn, body)
        else:
            raise TargetFailed("UnsupportedTarget", f"Lambent cannot deliver to {arn}")

    async def _to_topic(self, arn: str, body: str) -> None:
        from lambent.errors import ServiceError

        try:
            await self._topics.publish(arn, body)  # type: ignore[union-attr]
        except ServiceError as err:
            raise TargetFailed(err.code, err.message) from None

    async def _to_function(self, account: str, name: str, qualifier: str | None, body: str) -> None:
        from lambent.errors import ServiceError

        try:
            await self._functions.send_to_function(account, name, qualifier, body.encode())
        except ServiceError as err:
            raise TargetFailed(err.code, err.message) from None

    async def to_queue(
        self,
        account: str,
        name: str,
        body: str,
        group_id: str | None,
        attributes: dict[str, dict[str, Any]] | None,
    ) -> None:
        if self._queues is None:
            raise TargetFailed("InvalidTarget", "No queue service on this node")
        queue = await self._queues.catalog.find(account, name)
        if queue is None:
            raise TargetFailed("AWS.SimpleQueueService.NonExistentQueue", f"No queue {name}")
        dedup = uuid.uuid4().hex if name.endswith(".fifo") else None
        entry = SendEntry(body=body, attributes=attributes, group_id=group_id, dedup_id=dedup)
        (result,) = await self._queues.send(queue, [entry], "scheduler.amazonaws.com")
        if isinstance(result, Exception):
            raise TargetFailed(getattr(result, "code", "SendFailed"), str(result))


def dead_letter_attributes(
    target: dict[str, Any], failure: TargetFailed, attempts: int, condition: str
) -> dict[str, dict[str, Any]]:
    """The message attributes AWS's Scheduler puts on a dead-letter message."""
    values = {
        "ERROR_CODE": failure.code,
        "ERROR_MESSAGE": str(failure)[:256],
        "EXHAUSTED_RETRY_CONDITION": condition,
        "RETRY_ATTEMPTS": str(attempts),
        "TARGET_ARN": str(target["Arn"]),
    }
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}


def body_of(target: dict[str, Any]) -> str:
    """Input as given; without it, an empty JSON object (Lambent's choice: AWS documents a
    default notification for some templated targets but not its shape)."""
    value = target.get("Input")
    return str(value) if value is not None else json.dumps({})
