"""SNS filter policies: the same language, with SNS's limits and its two scopes.

With FilterPolicyScope MessageAttributes (the default) a policy is flat (attribute names
only) and is matched against the message's attributes, typed as SNS types them; with
MessageBody it is matched against the JSON body, nesting allowed. Either way a policy has
at most 5 keys and at most 150 combinations of values (the product of each array's length,
summed over `$or` alternatives), as AWS documents in "Filter policy constraints".
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from lambent.event_patterns.errors import PatternError

MAX_KEYS = 5
MAX_COMBINATIONS = 150


def check_attributes_policy(parsed: dict[str, Any], conjunctions: list[Any]) -> None:
    if any(len(path) > 1 for conjunction in conjunctions for path, _ in conjunction):
        raise PatternError(
            "Filter policy scope MessageAttributes does not support nested filter policy"
        )
    check_limits(parsed, conjunctions)


def check_limits(parsed: dict[str, Any], conjunctions: list[Any]) -> None:
    keys = {path for conjunction in conjunctions for path, _ in conjunction}
    if len(keys) > MAX_KEYS:
        raise PatternError("Filter policy can not have more than 5 keys")
    if combinations(parsed) > MAX_COMBINATIONS:
        raise PatternError("Filter policy is too complex")


def combinations(obj: dict[str, Any]) -> int:
    total = 1
    for key, value in obj.items():
        if key == "$or" and isinstance(value, list):
            total *= sum(combinations(v) for v in value if isinstance(v, dict))
        elif isinstance(value, dict):
            total *= combinations(value)
        elif isinstance(value, list):
            total *= max(1, len(value))
    return total


def attributes_view(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Message attributes as the values a MessageAttributes-scope policy sees: String as a
    string, Number as a number, String.Array as its elements; Binary is never matched."""
    view: dict[str, Any] = {}
    for name, attr in attributes.items():
        kind = str(attr.get("DataType", attr.get("Type", "String")))
        raw = attr.get("StringValue", attr.get("Value"))
        if raw is None or kind.startswith("Binary"):
            continue
        if kind.startswith("Number"):
            view[name] = _number(str(raw))
        elif kind.startswith("String.Array"):
            view[name] = _array(str(raw))
        else:
            view[name] = str(raw)
    return view


def _number(raw: str) -> Any:
    try:
        value = float(raw)
    except ValueError:
        return raw
    return value if math.isfinite(value) else raw


def _array(raw: str) -> Any:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    return value if isinstance(value, list) else raw
