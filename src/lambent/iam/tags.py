"""IAM tags on roles and users. IAM treats tag keys case-insensitively: tagging `Team`
replaces an existing `team`."""

from __future__ import annotations

from typing import Any

from lambent.errors import IamLimitExceeded
from lambent.iam import paging

MAX_TAGS = 50


def merged(
    existing: list[dict[str, Any]], new: list[dict[str, Any]], quota_name: str
) -> list[dict[str, Any]]:
    incoming = {str(t["Key"]).casefold() for t in new}
    out = [t for t in existing if str(t["Key"]).casefold() not in incoming] + [
        {"Key": t["Key"], "Value": t.get("Value", "")} for t in new
    ]
    if len(out) > MAX_TAGS:
        raise IamLimitExceeded(f"Cannot exceed quota for {quota_name}: {MAX_TAGS}")
    return out


def without(existing: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    doomed = {k.casefold() for k in keys}
    return [t for t in existing if str(t["Key"]).casefold() not in doomed]


def listed(existing: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    chunk, extra = paging.page(existing, lambda t: (str(t["Key"]),), params)
    return {"Tags": chunk, **extra}
