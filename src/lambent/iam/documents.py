"""Policy documents: the checks IAM makes on them, and the URL-encoding IAM returns.

IAM answers every policy document URL-encoded (botocore decodes it back to a dict). The
checks are the structural ones IAM applies before storing: valid JSON, a known Version,
statements with Effect and Action, Resource in permission policies, Principal in trust
policies. Lambent does not evaluate permission policies; it keeps them for tooling.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from lambent.errors import IamLimitExceeded, IamMalformedPolicy

VERSIONS = ("2012-10-17", "2008-10-17")
TRUST_POLICY_QUOTA = 2048
MANAGED_POLICY_QUOTA = 6144
INLINE_ROLE_QUOTA = 10240
_SYNTAX = "Syntax errors in policy."


def encode(document: str) -> str:
    """The document as IAM returns it: percent-encoded, spaces as %20 (never '+')."""
    return quote(document, safe="")


def size(document: str) -> int:
    """IAM counts policy size without whitespace."""
    return sum(1 for ch in document if not ch.isspace())


def check_trust_policy(document: str, *, lenient: bool = False) -> str:
    """A role's AssumeRolePolicyDocument, returned as stored (encoded).

    `lenient` keeps text that is not JSON at all, verbatim (open mode, see api/iam).
    """
    if size(document) > TRUST_POLICY_QUOTA:
        raise IamLimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_QUOTA}")
    try:
        doc = json.loads(document)
    except ValueError as exc:
        if lenient:
            return document
        raise IamMalformedPolicy("This policy contains invalid Json") from exc
    for stmt in _statements(doc, "This policy contains invalid Json"):
        if "Resource" in stmt or "NotResource" in stmt:
            raise IamMalformedPolicy("Has prohibited field Resource")
        if "Principal" not in stmt and "NotPrincipal" not in stmt:
            raise IamMalformedPolicy("AssumeRolepolicy contained an invalid principal element")
    return encode(document)


def check_permission_policy(document: str, quota: int) -> None:
    """An identity-based policy (inline or managed)."""
    if size(document) > quota:
        raise IamLimitExceeded(f"Cannot exceed quota for PolicySize: {quota}")
    try:
        doc = json.loads(document)
    except ValueError as exc:
        raise IamMalformedPolicy(_SYNTAX) from exc
    for stmt in _statements(doc, _SYNTAX):
        if "Principal" in stmt or "NotPrincipal" in stmt:
            raise IamMalformedPolicy("Policy document should not specify a principal.")
        if "Resource" not in stmt and "NotResource" not in stmt:
            raise IamMalformedPolicy("Policy statement must contain resources.")


def _statements(doc: Any, syntax: str) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        raise IamMalformedPolicy(syntax)
    version = doc.get("Version")
    if version is not None and version not in VERSIONS:
        raise IamMalformedPolicy("The policy failed legacy parsing")
    raw = doc.get("Statement")
    if raw is None:
        raise IamMalformedPolicy(syntax)
    items = raw if isinstance(raw, list) else [raw]
    out: list[dict[str, Any]] = []
    for stmt in items:
        if not isinstance(stmt, dict):
            raise IamMalformedPolicy(syntax)
        if stmt.get("Effect") not in ("Allow", "Deny"):
            raise IamMalformedPolicy(syntax)
        if "Action" not in stmt and "NotAction" not in stmt:
            raise IamMalformedPolicy("Policy statement must contain actions.")
        out.append(stmt)
    return out
