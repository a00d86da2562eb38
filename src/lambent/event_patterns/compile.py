"""Compiling a pattern: JSON -> a disjunction of conjunctions of (path, matchers).

`$or` multiplies alternatives out at compile time, so matching is a flat loop. Dialects
differ in which match types they accept and in SNS's limits (`sns.py`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lambent.event_patterns import sns
from lambent.event_patterns.errors import PatternError
from lambent.event_patterns.leaves import ALL_MATCH_TYPES, LeafSet, compile_leaves
from lambent.event_patterns.paths import Path, values_at

Dialect = Literal["eventbridge", "sns", "sns-body", "esm"]
Conjunction = tuple[tuple[Path, LeafSet], ...]

# What each place accepts: Lambda's filter rules document no cidr and no wildcard; SNS has
# no wildcard. EventBridge takes every type.
MATCH_TYPES: dict[str, frozenset[str]] = {
    "eventbridge": ALL_MATCH_TYPES,
    "sns": ALL_MATCH_TYPES - {"wildcard"},
    "sns-body": ALL_MATCH_TYPES - {"wildcard"},
    "esm": ALL_MATCH_TYPES - {"wildcard", "cidr"},
}
# $or expands into the product of its alternatives; past this many a pattern is refused
# rather than letting one rule cost every event thousands of checks.
MAX_CONJUNCTIONS = 1000
OR = "$or"


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    source: Any  # the pattern as parsed JSON
    conjunctions: tuple[Conjunction, ...]

    def matches(self, event: Mapping[str, Any]) -> bool:
        for conjunction in self.conjunctions:  # noqa: SIM110 (hot path)
            if conjunction_matches(conjunction, event):
                return True
        return False


def conjunction_matches(
    conjunction: Conjunction,
    event: Mapping[str, Any],
    seen: dict[Path, list[Any]] | None = None,
    verdicts: dict[int, bool] | None = None,
) -> bool:
    """`seen` caches an event's values per path, `verdicts` each shared field's answer (by
    the field's id), across the patterns checked against one event."""
    # A plain loop: all() over a generator costs a frame per call on the matching hot path.
    for field in conjunction:
        if verdicts is not None:
            verdict = verdicts.get(id(field))
            if verdict is not None:
                if not verdict:
                    return False
                continue
        path, leaves = field
        found = None if seen is None else seen.get(path)
        if found is None:
            found = values_at(event, path)
            if seen is not None:
                seen[path] = found
        verdict = leaves.matches(found)
        if verdicts is not None:
            verdicts[id(field)] = verdict
        if not verdict:
            return False
    return True


def parse_json(pattern: str | Mapping[str, Any]) -> Any:
    if not isinstance(pattern, str):
        return pattern
    try:
        return json.loads(pattern)
    except json.JSONDecodeError as exc:
        raise PatternError(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from exc


def compile_pattern(
    pattern: str | Mapping[str, Any], *, dialect: Dialect = "eventbridge"
) -> CompiledPattern:
    parsed = parse_json(pattern)
    if not isinstance(parsed, dict):
        raise PatternError("Filter is not an object")
    conjunctions = _object(parsed, (), MATCH_TYPES[dialect])
    if dialect == "sns":
        sns.check_attributes_policy(parsed, conjunctions)
    elif dialect == "sns-body":
        sns.check_limits(parsed, conjunctions)
    return CompiledPattern(parsed, tuple(_cheap_first(c) for c in conjunctions))


def _cheap_first(conjunction: Conjunction) -> Conjunction:
    """Exact-value fields first: a set lookup, and the check most events fail."""
    return tuple(sorted(conjunction, key=lambda field: field[1].preds != ()))


def _object(obj: dict[str, Any], prefix: Path, allow: frozenset[str]) -> list[Conjunction]:
    if not obj:
        raise PatternError("Empty objects are not allowed")
    result: list[Conjunction] = [()]
    for key, value in obj.items():
        if key == OR:
            result = _product(result, _or(value, prefix, allow))
        elif isinstance(value, dict):
            result = _product(result, _object(value, (*prefix, key), allow))
        elif isinstance(value, list):
            field = _field((*prefix, key), json.dumps(value, sort_keys=True), allow)
            result = [(*c, field) for c in result]
        else:
            raise PatternError(f'"{key}" must be an object or an array')
    return result


@functools.lru_cache(maxsize=65536)
def _field(path: Path, leaves_json: str, allow: frozenset[str]) -> tuple[Path, LeafSet]:
    """One object per distinct (path, matchers): rules that share a condition share it, so
    a RuleSet decides it once per event (`conjunction_matches`' verdicts by id)."""
    return path, compile_leaves(json.loads(leaves_json), allow=allow)


def _or(value: Any, prefix: Path, allow: frozenset[str]) -> list[Conjunction]:
    if not isinstance(value, list):
        raise PatternError(f"It must be an Array followed with {OR}.")
    alternatives: list[Conjunction] = []
    for item in value:
        if not isinstance(item, dict):
            raise PatternError(f"Only JSON object is allowed in array of {OR} relationship.")
        alternatives.extend(_object(item, prefix, allow))
    if len(value) < 2:
        raise PatternError(f"There must have at least 2 Objects in {OR} relationship.")
    return alternatives


def _product(left: list[Conjunction], right: list[Conjunction]) -> list[Conjunction]:
    if len(left) * len(right) > MAX_CONJUNCTIONS:
        raise PatternError("The pattern is too complex: too many combinations of $or")
    return [(*a, *b) for a in left for b in right]
