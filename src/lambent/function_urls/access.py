"""Who may call a function URL: the function's resource-based policy, evaluated (pure).

AuthType NONE: the policy of the URL's qualifier must allow `lambda:InvokeFunctionUrl`
to everyone (`Principal: "*"`), which is what
`AddPermission(Action=lambda:InvokeFunctionUrl, Principal=*, FunctionUrlAuthType=NONE)`
writes. AuthType AWS_IAM: the signed caller's own account may call (Lambent does not
evaluate identity-based policies, so a principal of the function's account is treated as
holding lambda:InvokeFunctionUrl); another account needs a statement naming it.

Conditions are evaluated against the keys a URL request has: `lambda:FunctionUrlAuthType`
and `lambda:InvokedViaFunctionUrl`. A condition on any other key fails, as in IAM when
the key is absent. An explicit Deny wins.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ACTION = "lambda:invokefunctionurl"


@dataclass(frozen=True)
class Principal:
    account_id: str
    arn: str


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def action_matches(actions: Any, action: str = ACTION) -> bool:
    """`action` lower-cased; the statement's may hold wildcards."""
    return any(fnmatch.fnmatchcase(action, a.lower()) for a in _as_list(actions))


def _aws_principal_matches(entry: str, caller: Principal | None) -> bool:
    if entry == "*":
        return True
    if caller is None:
        return False
    if entry in (caller.account_id, caller.arn):
        return True
    return entry.startswith("arn:") and entry.endswith(f":iam::{caller.account_id}:root")


def principal_matches(principal: Any, caller: Principal | None) -> bool:
    """`caller` None is the anonymous public (AuthType NONE)."""
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    return any(_aws_principal_matches(e, caller) for e in _as_list(principal.get("AWS")))


def _compare(operator: str, actual: str, expected: str) -> bool:
    if operator == "StringEquals":
        return actual == expected
    if operator == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if operator in ("StringLike", "ArnLike", "ArnEquals"):
        return fnmatch.fnmatchcase(actual, expected)
    if operator == "Bool":
        return actual.lower() == expected.lower()
    return False


def conditions_hold(condition: Any, context: Mapping[str, str]) -> bool:
    if not condition:
        return True
    if not isinstance(condition, Mapping):
        return False
    for operator, pairs in condition.items():
        if not isinstance(pairs, Mapping):
            return False
        base = operator.removesuffix("IfExists")
        for key, expected in pairs.items():
            actual = context.get(str(key).lower())
            if actual is None:
                if base != operator:
                    continue
                return False
            if not any(_compare(base, actual, e) for e in _as_list(expected)):
                return False
    return True


def request_context(auth_type: str) -> dict[str, str]:
    return {"lambda:functionurlauthtype": auth_type, "lambda:invokedviafunctionurl": "true"}


def allows(policy: Mapping[str, Any] | None, caller: Principal | None, auth_type: str) -> bool:
    """True when some Allow statement grants the URL invocation and no Deny refuses it."""
    return grants(policy, caller, ACTION, request_context(auth_type))


def grants(
    policy: Mapping[str, Any] | None,
    caller: Principal | None,
    action: str,
    context: Mapping[str, str],
) -> bool:
    """True when some Allow statement grants `action` (lower-case) to `caller`, its
    conditions holding on `context`, and no Deny refuses it."""
    if not policy:
        return False
    allowed = False
    for stmt in policy.get("Statement") or []:
        if not isinstance(stmt, Mapping) or not action_matches(stmt.get("Action"), action):
            continue
        if not principal_matches(stmt.get("Principal"), caller):
            continue
        if not conditions_hold(stmt.get("Condition"), context):
            continue
        if stmt.get("Effect") == "Deny":
            return False
        if stmt.get("Effect") == "Allow":
            allowed = True
    return allowed
