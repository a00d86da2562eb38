"""Handing one event to one target: Lambda (async), SQS, another event bus, an SNS topic
(Publish; the topic's policy is not evaluated, as for S3's notifications).

Each hand-over is durable when it returns (the async queue, the SQS backend, the outbox).
A failure says whether retrying can help: a target that does not exist or does not allow
EventBridge is not retried (AWS sends such events to the dead-letter queue at once).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from lambent.errors import DeniedError, NotFoundError, ServiceError
from lambent.events import names
from lambent.function_urls.access import action_matches, conditions_hold
from lambent.functions import arns
from lambent.functions.catalog import StoreCatalog
from lambent.functions.repository import POLICY
from lambent.sqs.access import may_send
from lambent.sqs.sending import SendEntry
from lambent.sqs.service import Queues

SERVICE = "events.amazonaws.com"


class DeliveryFailed(Exception):
    def __init__(self, code: str, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry = retry


# (account, function ARN, payload) -> event id; the async path's acceptance.
AcceptAsync = Callable[[str, str, str | None, bytes], Awaitable[str]]
# (event doc for the outbox) -> None
Forward = Callable[[dict[str, Any]], Awaitable[None]]
# (topic ARN, message) -> message id; SNS's Publish (durable fan-out when it returns)
Publish = Callable[[str, str], Awaitable[str]]


def _service_allowed(policy: Mapping[str, Any] | None, rule_arn: str, account: str) -> bool:
    """Does a Lambda resource policy let events.amazonaws.com invoke for this rule?"""
    if not policy:
        return False
    context = {"aws:sourcearn": rule_arn, "aws:sourceaccount": account}
    allowed = False
    for stmt in policy.get("Statement") or []:
        if not isinstance(stmt, Mapping) or not action_matches(
            stmt.get("Action"), "lambda:invokefunction"
        ):
            continue
        principal = stmt.get("Principal")
        service = principal.get("Service") if isinstance(principal, Mapping) else None
        services = service if isinstance(service, list) else [service]
        if principal != "*" and SERVICE not in services:
            continue
        if not conditions_hold(stmt.get("Condition"), context):
            continue
        if stmt.get("Effect") == "Deny":
            return False
        allowed = allowed or stmt.get("Effect") == "Allow"
    return allowed


class TargetSender:
    def __init__(
        self,
        functions: StoreCatalog,
        accept: AcceptAsync,
        queues: Queues | None,
        forward: Forward,
        publish: Publish | None = None,
    ) -> None:
        self._functions = functions
        self._accept = accept
        self._queues = queues
        self._forward = forward
        self._publish = publish
        self.sns_not_delivered = 0

    async def send(self, target: Mapping[str, Any], body: str, rule: Any, event: Any) -> None:
        arn = str(target["Arn"])
        parts = names.arn_parts(arn)
        service = parts[0] if parts else ""
        try:
            if service == "lambda":
                await self._lambda(arn, body, rule)
            elif service == "sqs":
                await self.sqs(arn, body, rule.arn, target.get("SqsParameters"), None)
            elif service == "events":
                await self._bus(arn, event, rule)
            elif service == "sns" and self._publish is not None:
                await self._publish(arn, body)
            elif service == "sns":
                self.sns_not_delivered += 1
                raise DeliveryFailed("SNSNotAvailable", "no SNS service here", retry=False)
            else:
                raise DeliveryFailed("UnsupportedTarget", f"no target for {arn}", retry=False)
        except (NotFoundError, DeniedError) as exc:
            raise DeliveryFailed(exc.code, exc.message, retry=False) from exc
        except ServiceError as exc:
            raise DeliveryFailed(exc.code, exc.message, retry=True) from exc

    async def _lambda(self, arn: str, body: str, rule: Any) -> None:
        ref = arns.parse_function(arn, None)
        account = ref.account or rule.account
        keys = ["", ref.qualifier] if ref.qualifier else [""]
        allowed = False
        for key in keys:
            policy = await self._functions.repo.child(POLICY, account, ref.name, key)
            allowed = allowed or _service_allowed(policy, rule.arn, rule.account)
        if not allowed:
            raise DeliveryFailed(
                "AccessDeniedException",
                f"The resource-based policy of {arn} does not allow {SERVICE} to invoke it "
                f"for {rule.arn}",
                retry=False,
            )
        await self._accept(account, arn, None, body.encode())

    async def sqs(
        self,
        arn: str,
        body: str,
        source_arn: str,
        params: Mapping[str, Any] | None,
        attributes: Mapping[str, Mapping[str, Any]] | None,
    ) -> None:
        if self._queues is None:
            raise DeliveryFailed("ServiceUnavailable", "no queue service here", retry=True)
        queue = await self._queues.catalog.by_arn(arn)
        if queue is None:
            raise DeliveryFailed("ResourceNotFoundException", f"{arn} does not exist", retry=False)
        if not may_send(queue, SERVICE, source_arn):
            raise DeliveryFailed(
                "AccessDeniedException",
                f"The queue policy of {arn} does not allow {SERVICE} to send for {source_arn}",
                retry=False,
            )
        group = (params or {}).get("MessageGroupId")
        dedup = None
        if queue.fifo:
            dedup = hashlib.sha256(body.encode()).hexdigest()  # content-based, as AWS
        entry = SendEntry(body, attributes=attributes, group_id=group, dedup_id=dedup)
        (result,) = await self._queues.send(queue, [entry], "AIDAEVENTBRIDGE")
        if isinstance(result, ServiceError):
            raise result

    async def _bus(self, arn: str, event: Mapping[str, Any], rule: Any) -> None:
        parts = names.arn_parts(arn)
        assert parts is not None
        await self._forward(
            {
                "event": dict(event),
                "account": parts[2],
                "bus": parts[3][len("event-bus/") :],
                "region": parts[1],
                "from_account": rule.account,
            }
        )
