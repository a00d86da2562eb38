"""Who may use a queue: its owner's account, and whom the queue's `Policy` allows. Pure.

The queue's account may do anything (Lambent does not evaluate identity-based policies).
Another account, or an AWS service sending on a resource's behalf (SNS, EventBridge,
S3 notifications: `may_send`), needs an Allow statement in the `Policy` attribute whose
Principal names it (`{"AWS": account or ARN}`, `{"Service": "sns.amazonaws.com"}` or
`"*"`), whose Action matches (`sqs:SendMessage`, `sqs:*`), whose Resource matches the
queue's ARN (or is absent), and whose conditions hold on the request's keys
(`aws:SourceArn`, `aws:SourceAccount`, `aws:PrincipalAccount`); no Deny may match.
Conditions are evaluated by the same code as Lambda's resource policies
(function_urls/access.py)."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from typing import Any

from lambent.function_urls.access import action_matches, conditions_hold
from lambent.sqs.model import QueueRecord


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _principal_matches(
    principal: Any, account: str | None, arn: str | None, service: str | None
) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    for entry in _as_list(principal.get("AWS")):
        if entry == "*" or (account is not None and entry in (account, arn)):
            return True
        if account is not None and entry == f"arn:aws:iam::{account}:root":
            return True
    return service is not None and service in _as_list(principal.get("Service"))


def _resource_matches(resource: Any, queue_arn: str) -> bool:
    if resource is None:
        return True
    return any(fnmatch.fnmatchcase(queue_arn, r) for r in _as_list(resource))


def _evaluate(
    queue: QueueRecord,
    action: str,
    *,
    account: str | None,
    arn: str | None,
    service: str | None,
    context: Mapping[str, str],
) -> bool:
    text = queue.attributes.get("Policy")
    if not text:
        return False
    try:
        policy = json.loads(text)
    except ValueError:
        return False
    statements = policy.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    allowed = False
    for stmt in statements:
        if not isinstance(stmt, Mapping) or not action_matches(stmt.get("Action"), action):
            continue
        if not _principal_matches(stmt.get("Principal"), account, arn, service):
            continue
        if not _resource_matches(stmt.get("Resource"), queue.arn):
            continue
        if not conditions_hold(stmt.get("Condition"), context):
            continue
        if stmt.get("Effect") == "Deny":
            return False
        allowed = allowed or stmt.get("Effect") == "Allow"
    return allowed


def may_access(queue: QueueRecord, operation: str, account: str, principal_arn: str) -> bool:
    """May a caller of `account` call `operation` (SendMessage, ...) on the queue?"""
    if account == queue.account:
        return True
    context = {"aws:principalaccount": account, "aws:principalarn": principal_arn}
    action = f"sqs:{operation}".lower()
    return _evaluate(
        queue, action, account=account, arn=principal_arn, service=None, context=context
    )


def may_send(queue: QueueRecord, principal_service: str, source_arn: str | None) -> bool:
    """May the AWS service `principal_service` (e.g. "sns.amazonaws.com") send to the
    queue on behalf of the resource `source_arn` (a topic, a rule, a bucket)?"""
    context: dict[str, str] = {}
    if source_arn is not None:
        context["aws:sourcearn"] = source_arn
        parts = source_arn.split(":")
        if len(parts) > 4 and parts[4]:
            context["aws:sourceaccount"] = parts[4]
    return _evaluate(
        queue, "sqs:sendmessage", account=None, arn=None, service=principal_service, context=context
    )
