"""The matchers of one field (the array in `"field": [...]`), parsed and compiled.

Each element is an exact value or a one-key object naming a match type. The reasons in
PatternError are Event Ruler's own words, so a user sees what AWS would tell them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lambent.event_patterns.anything_but import anything_but_pred
from lambent.event_patterns.errors import PatternError
from lambent.event_patterns.numeric import numeric_pred
from lambent.event_patterns.values import typed
from lambent.event_patterns.wildcard import wildcard_regex

Pred = Callable[[Any], bool]
ONLY_ONE = "Only one key allowed in match expression"


@dataclass(frozen=True, slots=True)
class LeafSet:
    """Matches a field's leaf values (empty when the field is absent) if any matcher matches
    any of them; `exists: false` is the one matcher an absent field satisfies."""

    exact: frozenset[Any]
    preds: tuple[Pred, ...]
    exists_true: bool
    exists_false: bool

    def matches(self, values: Sequence[Any]) -> bool:
        if not values:
            return self.exists_false
        if self.exists_true:
            return True
        exact, preds = self.exact, self.preds
        for value in values:
            if (value if type(value) is str else typed(value)) in exact:
                return True
            for pred in preds:
                if pred(value):
                    return True
        return False

    @property
    def exact_strings(self) -> frozenset[str] | None:
        """The strings this field must equal, when nothing else can match it (the index
        of RuleSet uses them); None otherwise."""
        if self.preds or self.exists_true or self.exists_false or not self.exact:
            return None
        if all(isinstance(k, str) for k in self.exact):
            return frozenset(self.exact)
        return None


def compile_leaves(items: Any, *, allow: frozenset[str]) -> LeafSet:
    if not isinstance(items, list):
        raise PatternError("Value must be an array")  # callers name the field first
    if not items:
        raise PatternError("Empty arrays are not allowed")
    exact: set[Any] = set()
    preds: list[Pred] = []
    exists: set[bool] = set()
    for item in items:
        if isinstance(item, dict):
            kind, pred = _match_expression(item, allow)
            if kind == "exists":
                exists.add(bool(pred(None)))
            else:
                preds.append(pred)
        elif isinstance(item, list):
            raise PatternError("Match value must be String, number, true, false, or null")
        else:
            exact.add(typed(item))
    return LeafSet(frozenset(exact), tuple(preds), True in exists, False in exists)


def _match_expression(expr: dict[str, Any], allow: frozenset[str]) -> tuple[str, Pred]:
    if not expr:
        raise PatternError("Match expression name not found")
    if len(expr) > 1:
        raise PatternError(ONLY_ONE)
    ((name, arg),) = expr.items()
    if name not in allow:
        raise PatternError(f"Unrecognized match type {name}")
    builder = _BUILDERS[name]
    return name, builder(arg)


def _string_arg(arg: Any, what: str) -> str:
    if not isinstance(arg, str):
        raise PatternError(f"{what} match pattern must be a string")
    return arg


def _ignore_case_arg(arg: Any, what: str) -> tuple[str, bool]:
    """`"x"` or `{"equals-ignore-case": "x"}` (prefix and suffix take either)."""
    if isinstance(arg, dict):
        if len(arg) != 1 or "equals-ignore-case" not in arg:
            raise PatternError(f"Unsupported {what} pattern: {', '.join(arg) or '{}'}")
        return _string_arg(arg["equals-ignore-case"], "equals-ignore-case").lower(), True
    return _string_arg(arg, what), False


def _prefix(arg: Any) -> Pred:
    text, fold = _ignore_case_arg(arg, "prefix")
    if fold:
        return lambda v: isinstance(v, str) and v.lower().startswith(text)
    return lambda v: isinstance(v, str) and v.startswith(text)


def _suffix(arg: Any) -> Pred:
    text, fold = _ignore_case_arg(arg, "suffix")
    if fold:
        return lambda v: isinstance(v, str) and v.lower().endswith(text)
    return lambda v: isinstance(v, str) and v.endswith(text)


def _equals_ignore_case(arg: Any) -> Pred:
    text = _string_arg(arg, "equals-ignore-case").lower()
    return lambda v: isinstance(v, str) and v.lower() == text


def _wildcard(arg: Any) -> Pred:
    regex = wildcard_regex(_string_arg(arg, "wildcard"))
    return lambda v: isinstance(v, str) and regex.fullmatch(v) is not None


def _cidr(arg: Any) -> Pred:
    text = _string_arg(arg, "prefix")  # Event Ruler's own wording for a non-string cidr
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise PatternError(f"Malformed CIDR: {text}") from exc

    def pred(v: Any) -> bool:
        if not isinstance(v, str):
            return False
        try:
            return ipaddress.ip_address(v) in network
        except ValueError:
            return False

    return pred


def _exists(arg: Any) -> Pred:
    if not isinstance(arg, bool):
        raise PatternError("exists match pattern must be either true or false.")
    return lambda _v: arg


_BUILDERS: dict[str, Callable[[Any], Pred]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
    "cidr": _cidr,
    "exists": _exists,
    "numeric": numeric_pred,
    "anything-but": anything_but_pred,
}

ALL_MATCH_TYPES = frozenset(_BUILDERS)
