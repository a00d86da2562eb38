"""Who may assume a role: the parts of trust-policy evaluation Lambent applies.

Lambent does not evaluate identity policies, so within one account any principal may
assume any of the account's roles (an administrator's view). Across accounts the role's
trust policy decides, as in AWS: an Allow statement for sts:AssumeRole whose Principal
names the caller's account, the caller itself, or "*", and no Deny that matches.
"""

from __future__ import annotations

import json
from typing import Any

LAMBDA_SERVICE = "lambda.amazonaws.com"
_ACTIONS = ("sts:AssumeRole", "sts:*", "*")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _statements(document: str) -> list[dict[str, Any]] | None:
    try:
        doc = json.loads(document)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    return [s for s in _as_list(doc.get("Statement")) if isinstance(s, dict)]


def _names_action(stmt: dict[str, Any]) -> bool:
    return any(a in _ACTIONS for a in _as_list(stmt.get("Action")))


def _principals(stmt: dict[str, Any], key: str) -> list[str]:
    principal = stmt.get("Principal")
    if principal == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return []
    return [str(p) for p in _as_list(principal.get(key))]


def caller_identities(account: str, principal_arn: str) -> set[str]:
    """Every way a trust policy can name this caller."""
    names = {"*", account, f"arn:aws:iam::{account}:root", principal_arn}
    if principal_arn.startswith("arn:aws:sts::") and ":assumed-role/" in principal_arn:
        role = principal_arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        names.add(f"arn:aws:iam::{account}:role/{role}")
    return names


def _verdict(statements: list[dict[str, Any]], key: str, names: set[str]) -> bool:
    """Allow when some Allow statement matches and no Deny statement does."""
    verdict = False
    for stmt in statements:
        if not _names_action(stmt) or not names.intersection(_principals(stmt, key)):
            continue
        if stmt.get("Effect") == "Deny":
            return False
        if stmt.get("Effect") == "Allow":
            verdict = True
    return verdict


def allows_principal(document: str, account: str, principal_arn: str) -> bool:
    statements = _statements(document)
    if statements is None:
        return False
    return _verdict(statements, "AWS", caller_identities(account, principal_arn))


def allows_service(document: str, service: str = LAMBDA_SERVICE) -> bool:
    """Whether the trust policy lets `service` assume the role (Lambda's CreateFunction check).

    A document that is not JSON at all can only have been stored in open mode, which
    accepted it deliberately (placeholder trust policies), so it counts as trusting.
    """
    statements = _statements(document)
    if statements is None:
        return True
    return _verdict(statements, "Service", {service, "*"})
