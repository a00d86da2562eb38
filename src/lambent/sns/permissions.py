"""May an AWS service (SNS, S3) invoke a function on a resource's behalf? The function's
resource-based policy decides, as in AWS: a statement allowing lambda:InvokeFunction to
`{"Service": "<service>"}` whose conditions (`AWS:SourceArn`, `AWS:SourceAccount`) hold
for the source; no Deny matching. The policy of the qualifier the ARN names applies, and so
does the unqualified function's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambent.errors import ServiceError
from lambent.function_urls.access import action_matches, conditions_hold
from lambent.functions import arns
from lambent.functions.catalog import StoreCatalog
from lambent.functions.repository import POLICY

ACTION = "lambda:invokefunction"


def _names_service(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    value = principal.get("Service")
    values = value if isinstance(value, list) else [value]
    return service in values


def service_granted(policy: Mapping[str, Any] | None, service: str, source_arn: str) -> bool:
    if not policy:
        return False
    parts = source_arn.split(":")
    context = {"aws:sourcearn": source_arn}
    if len(parts) > 4 and parts[4]:
        context["aws:sourceaccount"] = parts[4]
    allowed = False
    for stmt in policy.get("Statement") or []:
        if not isinstance(stmt, Mapping) or not action_matches(stmt.get("Action"), ACTION):
            continue
        if not _names_service(stmt.get("Principal"), service):
            continue
        if not conditions_hold(stmt.get("Condition"), context):
            continue
        if stmt.get("Effect") == "Deny":
            return False
        allowed = allowed or stmt.get("Effect") == "Allow"
    return allowed


async def may_invoke(
    catalog: StoreCatalog, function_arn: str, service: str, source_arn: str
) -> bool:
    """Does the function's policy let `service` invoke it for `source_arn`?"""
    try:
        ref = arns.parse_function(function_arn, None)
    except ServiceError:
        return False
    if ref.account is None:
        return False
    keys = ["", ref.qualifier] if ref.qualifier else [""]
    for key in keys:
        policy = await catalog.repo.child(POLICY, ref.account, ref.name, key)
        if service_granted(policy, service, source_arn):
            return True
    return False
