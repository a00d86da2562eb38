"""How event values compare: by JSON type, so "5" never equals 5 and true never equals 1.

An exact matcher is a set of typed keys; an event value's key is looked up in it. Strings
are their own key; numbers are keyed by value (5 and 5.0 are one number, as Event Ruler
compares numbers); true, false and null have keys of their own.
"""

from __future__ import annotations

from typing import Any, Final

TRUE: Final = ("bool", True)
FALSE: Final = ("bool", False)
NULL: Final = ("null",)


def typed(value: Any) -> Any:
    """The key of a leaf value (str, number, bool or None)."""
    if isinstance(value, str):
        return value
    if value is None:
        return NULL
    if value is True:
        return TRUE
    if value is False:
        return FALSE
    return ("n", float(value))


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_leaf(value: Any) -> bool:
    return not isinstance(value, (dict, list))
