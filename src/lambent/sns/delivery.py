"""Fan-out: hand one published message to each subscription that its filter lets through.

Every hand-over is durable before Publish answers: a Lambda subscription becomes an event
in Lambent's async queue (AWS invokes subscribed functions asynchronously, so the
function's own retries, destinations and DLQ apply), an SQS subscription a message in the
queue's store. So an accepted Publish is delivered at least once even if the server is
killed afterwards; one killed mid fan-out never answered, and the client's retry may
deliver twice to the subscriptions already served (at least once, as AWS).

A subscription the target refuses (a function whose policy does not allow
sns.amazonaws.com for the topic, a queue whose policy does not allow it, a target that is
gone) is a failed delivery, counted; with a RedrivePolicy the message goes to its DLQ."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from lambent.errors import ServiceError
from lambent.functions.catalog import StoreCatalog
from lambent.sns import messages, subscriptions
from lambent.sns.messages import Published
from lambent.sns.permissions import may_invoke
from lambent.sqs.access import may_send
from lambent.sqs.sending import SendEntry
from lambent.sqs.service import Queues
from lambent.store.interface import Doc

log = logging.getLogger(__name__)
SERVICE = "sns.amazonaws.com"

# (account, function ARN, qualifier, payload, trace) -> event id: the async path.
SendToFunction = Callable[[str, str, str | None, bytes, str | None], Awaitable[str]]


@dataclass
class DeliveryStats:
    """Counts per protocol since start: delivered, failed, filtered out."""

    delivered: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    filtered: int = 0

    def count(self, table: dict[str, int], protocol: str) -> None:
        table[protocol] = table.get(protocol, 0) + 1

    def view(self) -> dict[str, Any]:
        return {
            "delivered": dict(self.delivered),
            "failed": dict(self.failed),
            "filtered": self.filtered,
        }


class Delivery:
    def __init__(
        self,
        send_to_function: SendToFunction,
        queues: Queues | None,
        catalog: StoreCatalog,
        endpoint: str,
    ) -> None:
        self._send_to_function = send_to_function
        self._queues = queues
        self._catalog = catalog
        self._endpoint = endpoint
        self.stats = DeliveryStats()

    async def fan_out(self, msg: Published, subs: list[Doc]) -> None:
        for sub in subs:
            if not sub.get("confirmed", True):
                continue
            attrs: dict[str, str] = sub.get("attributes") or {}
            body = msg.body_for(sub["protocol"])
            if not subscriptions.passes(attrs, body, msg.attributes):
                self.stats.filtered += 1
                continue
            await self.deliver(msg, sub)

    async def deliver(self, msg: Published, sub: Doc) -> None:
        protocol = sub["protocol"]
        try:
            why = await self._hand_over(msg, sub)
        except ServiceError as err:
            why = err.message
        if why is None:
            self.stats.count(self.stats.delivered, protocol)
            return
        self.stats.count(self.stats.failed, protocol)
        log.warning("sns: %s to %s failed: %s", msg.message_id, sub["endpoint"], why)
        await self._redrive(msg, sub)

    async def _hand_over(self, msg: Published, sub: Doc) -> str | None:
        protocol, endpoint = sub["protocol"], sub["endpoint"]
        if protocol == "lambda":
            if not await may_invoke(self._catalog, endpoint, SERVICE, msg.topic_arn):
                return "the function's policy does not allow sns.amazonaws.com"
            event = messages.lambda_event(msg, sub["arn"], self._endpoint)
            account = endpoint.split(":")[4]
            await self._send_to_function(account, endpoint, None, json.dumps(event).encode(), None)
            return None
        if protocol == "sqs":
            raw = (sub.get("attributes") or {}).get("RawMessageDelivery", "false") == "true"
            return await self.to_queue(endpoint, self._sqs_entry(msg, sub, raw), msg.topic_arn)
        return f"protocol {protocol} is not delivered by this server"

    def _sqs_entry(self, msg: Published, sub: Doc, raw: bool) -> SendEntry:
        if raw:
            return SendEntry(msg.body_for("sqs"), attributes=dict(msg.attributes) or None)
        env = messages.envelope(msg, "sqs", sub["arn"], self._endpoint)
        return SendEntry(json.dumps(env))

    async def to_queue(
        self, queue_arn: str, entry: SendEntry, source_arn: str, service: str = SERVICE
    ) -> str | None:
        """Send as `source_arn`'s service would: the queue's policy must allow it."""
        if self._queues is None:
            return "no queue service on this node"
        queue = await self._queues.catalog.by_arn(queue_arn)
        if queue is None:
            return f"queue {queue_arn} does not exist"
        if not may_send(queue, service, source_arn):
            return f"the queue's policy does not allow {service}"
        result = (await self._queues.send(queue, [entry], service))[0]
        return result.message if isinstance(result, ServiceError) else None

    async def _redrive(self, msg: Published, sub: Doc) -> None:
        policy = (sub.get("attributes") or {}).get("RedrivePolicy")
        if not policy:
            return
        dlq = json.loads(policy).get("deadLetterTargetArn", "")
        env = messages.envelope(msg, sub["protocol"], sub["arn"], self._endpoint)
        why = await self.to_queue(dlq, SendEntry(json.dumps(env)), sub["arn"].rsplit(":", 1)[0])
        if why is not None:
            log.warning("sns: dead letter of %s to %s failed: %s", msg.message_id, dlq, why)
