"""`anything-but`: a value or a list of values (all strings or all numbers), or one of
`prefix`, `suffix`, `equals-ignore-case` or `wildcard` to negate. It needs a value: an
absent field matches no anything-but. A value of another type (a number against a
prefix, null against strings) is not excluded, so it matches, as in Event Ruler, where
only strings carry the quotes a string operand is compared with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambent.event_patterns.errors import PatternError
from lambent.event_patterns.values import is_number, typed
from lambent.event_patterns.wildcard import wildcard_regex

Pred = Callable[[Any], bool]
_NEGATABLE = ("prefix", "suffix", "equals-ignore-case", "wildcard")


def anything_but_pred(arg: Any) -> Pred:
    if isinstance(arg, dict):
        return _negated_operator(arg)
    if isinstance(arg, list):
        return _not_in(arg)
    if isinstance(arg, str) or is_number(arg):
        excluded = {typed(arg)}
        return lambda v: typed(v) not in excluded
    raise PatternError("Value of anything-but must be an array or single string/number value.")


def _not_in(values: list[Any]) -> Pred:
    strings = [v for v in values if isinstance(v, str)]
    numbers = [v for v in values if is_number(v)]
    if len(strings) + len(numbers) != len(values):
        raise PatternError("Inside anything but list, start|null|boolean is not supported.")
    if bool(strings) == bool(numbers):
        raise PatternError(
            "Inside anything but list, either all values are number or string, "
            "mixed type is not supported"
        )
    excluded = frozenset(typed(v) for v in values)
    return lambda v: typed(v) not in excluded


def _negated_operator(arg: dict[str, Any]) -> Pred:
    if len(arg) != 1:
        raise PatternError("Only one key allowed in match expression")
    ((op, value),) = arg.items()
    if op not in _NEGATABLE:
        raise PatternError(f"Unsupported anything-but pattern: {op}")
    if op == "equals-ignore-case":
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(i, str) for i in items):
            raise PatternError(
                "Inside anything-but/equals-ignore-case list, number|start|null|boolean is "
                "not supported."
            )
        folded = frozenset(i.lower() for i in items)
        return lambda v: not (isinstance(v, str) and v.lower() in folded)
    if not isinstance(value, str):
        what = "wildcard" if op == "wildcard" else "prefix/suffix"
        raise PatternError(f"{what} match pattern must be a string")
    if op == "wildcard":
        regex = wildcard_regex(value)
        return lambda v: not isinstance(v, str) or regex.fullmatch(v) is None
    if not value:
        raise PatternError("Null prefix/suffix not allowed")
    if op == "prefix":
        return lambda v: not isinstance(v, str) or not v.startswith(value)
    return lambda v: not isinstance(v, str) or not v.endswith(value)
