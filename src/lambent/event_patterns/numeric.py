"""`{"numeric": [">", 0, "<=", 5]}`: one comparison, or a lower and an upper bound."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from lambent.event_patterns.errors import PatternError
from lambent.event_patterns.values import is_number

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
TOO_MANY = "Too many elements in numeric expression"


def _number(value: Any, op: str) -> float:
    if not is_number(value):
        raise PatternError(f"Value of {'equals' if op == '=' else op} must be numeric")
    return float(value)


def numeric_pred(arg: Any) -> Callable[[Any], bool]:
    if not isinstance(arg, list):
        raise PatternError("Value of numeric must be an array.")
    if not arg or not isinstance(arg[0], str):
        raise PatternError(f"Invalid member in numeric match: {arg[0] if arg else ']'}")
    first = arg[0]
    if first not in _COMPARE:
        raise PatternError(f"Unrecognized numeric range operator: {first}")
    if len(arg) < 2:
        raise PatternError(f"Value of {'equals' if first == '=' else first} must be numeric")
    low = _number(arg[1], first)
    checks = [(_COMPARE[first], low)]
    if len(arg) > 2:
        if first not in (">", ">="):
            raise PatternError(TOO_MANY)
        second = arg[2]
        if not isinstance(second, str):
            raise PatternError(f"Bad value in numeric range: {second}")
        if second not in ("<", "<="):
            raise PatternError(f"Bad numeric range operator: {second}")
        if len(arg) < 4:
            raise PatternError(f"Value of {second} must be numeric")
        checks.append((_COMPARE[second], _number(arg[3], second)))
        if len(arg) > 4:
            raise PatternError("Too many terms in numeric range expression")
    if len(checks) == 1:
        compare, bound = checks[0]
        return lambda v: is_number(v) and compare(float(v), bound)
    (lo_cmp, lo), (hi_cmp, hi) = checks
    return lambda v: is_number(v) and lo_cmp(float(v), lo) and hi_cmp(float(v), hi)
