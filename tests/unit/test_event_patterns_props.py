"""Property tests: the compiled engine and the RuleSet index agree with a reference matcher
written here from the documented semantics, directly over the pattern's JSON."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lambent.event_patterns import RuleSet, compile_pattern

KEYS = ["a", "b", "c"]
WORDS = ["", "x", "xy", "Xy", "yx", "10.0.0.1", "10.1.0.1"]
NUMS = [-1, 0, 1, 2.5, 3]


# -- the reference: the documented semantics, evaluated directly over the JSON ---------------
def leaf_values(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return []
    if isinstance(node, list):
        return [v for item in node for v in leaf_values(item)]
    return [node]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def star_match(pattern: str, text: str) -> bool:
    if not pattern:
        return not text
    if pattern[0] == "*":
        return any(star_match(pattern[1:], text[i:]) for i in range(len(text) + 1))
    return bool(text) and text[0] == pattern[0] and star_match(pattern[1:], text[1:])


def is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def one(matcher: Any, v: Any) -> bool:
    if not isinstance(matcher, dict):
        return same(matcher, v)
    ((op, arg),) = matcher.items()
    s = isinstance(v, str)
    if op == "prefix":
        return s and v.startswith(arg)
    if op == "suffix":
        return s and v.endswith(arg)
    if op == "equals-ignore-case":
        return s and v.lower() == arg.lower()
    if op == "wildcard":
        return s and star_match(arg, v)
    if op == "cidr":
        try:
            return s and ipaddress.ip_address(v) in ipaddress.ip_network(arg, strict=False)
        except ValueError:
            return False
    if op == "numeric":
        ops = {"<": lambda x, y: x < y, "<=": lambda x, y: x <= y, "=": lambda x, y: x == y}
        ops |= {">": lambda x, y: x > y, ">=": lambda x, y: x >= y}
        pairs = list(zip(arg[::2], arg[1::2], strict=True))
        return is_num(v) and all(ops[o](v, n) for o, n in pairs)
    if op == "anything-but":
        if isinstance(arg, dict):
            ((sub, text),) = arg.items()
            if not s:
                return True
            if sub == "prefix":
                return not v.startswith(text)
            return not v.endswith(text)
        excluded = arg if isinstance(arg, list) else [arg]
        return not any(same(x, v) for x in excluded)
    raise AssertionError(op)


def field_ok(matchers: list[Any], node: Any, present: bool) -> bool:
    values = leaf_values(node) if present else []
    if not values:
        return any(m == {"exists": False} for m in matchers)
    if {"exists": True} in matchers:
        return True
    return any(
        one(m, v)
        for m in matchers
        if "exists" not in (m if isinstance(m, dict) else {})
        for v in values
    )


def ref(pattern: dict[str, Any], event: Any) -> bool:
    obj = event if isinstance(event, dict) else {}
    for key, sub in pattern.items():
        if key == "$or":
            if not any(ref(alt, event) for alt in sub):
                return False
        elif isinstance(sub, dict):
            if not ref(sub, obj.get(key, {})):
                return False
        elif not field_ok(sub, obj.get(key), key in obj):
            return False
    return True


# -- generators ----------------------------------------------------------------------------
words = st.sampled_from(WORDS)
nums = st.sampled_from(NUMS)
scalars = st.one_of(words, nums, st.booleans(), st.none())
matchers = st.one_of(
    scalars,
    words.map(lambda w: {"prefix": w}),
    words.map(lambda w: {"suffix": w}),
    words.map(lambda w: {"equals-ignore-case": w}),
    st.sampled_from(["x*", "*y", "*", "x*y", "1*.1"]).map(lambda w: {"wildcard": w}),
    st.sampled_from(["10.0.0.0/16", "10.0.0.1/32"]).map(lambda c: {"cidr": c}),
    st.booleans().map(lambda b: {"exists": b}),
    st.tuples(st.sampled_from([">", ">=", "<", "<=", "="]), nums).map(
        lambda t: {"numeric": list(t)}
    ),
    st.tuples(nums, nums).map(lambda t: {"numeric": [">", t[0], "<=", t[1]]}),
    words.map(lambda w: {"anything-but": w}),
    st.lists(nums, min_size=1, max_size=3).map(lambda n: {"anything-but": n}),
    st.sampled_from(["x", "1"]).map(lambda w: {"anything-but": {"prefix": w}}),
    st.sampled_from(["y", "1"]).map(lambda w: {"anything-but": {"suffix": w}}),
)
leaf = st.lists(matchers, min_size=1, max_size=3)
patterns = st.recursive(
    st.dictionaries(st.sampled_from(KEYS), leaf, min_size=1, max_size=3),
    lambda inner: st.one_of(
        st.dictionaries(st.sampled_from(KEYS), st.one_of(leaf, inner), min_size=1, max_size=3),
        st.lists(inner, min_size=2, max_size=3).map(lambda alts: {"$or": alts}),
    ),
    max_leaves=6,
)
event_values = st.recursive(
    st.one_of(scalars, st.lists(scalars, max_size=3)),
    lambda inner: st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    max_leaves=8,
)
events = st.dictionaries(st.sampled_from(KEYS), event_values, max_size=3)


@settings(max_examples=400, deadline=None)
@given(patterns, events)
def test_compiled_patterns_agree_with_the_reference(pattern: dict[str, Any], event: Any) -> None:
    assert compile_pattern(pattern).matches(event) == ref(pattern, event)


@settings(max_examples=200, deadline=None)
@given(st.lists(patterns, min_size=1, max_size=8), st.lists(events, min_size=1, max_size=5))
def test_the_index_finds_exactly_the_patterns_that_match(
    pats: list[dict[str, Any]], evs: list[Any]
) -> None:
    compiled = {i: compile_pattern(p) for i, p in enumerate(pats)}
    rules = RuleSet(compiled)
    for event in evs:
        assert rules.matching(event) == [i for i, p in compiled.items() if p.matches(event)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3), events)
def test_indexed_exact_rules_agree(values: list[str], event: Any) -> None:
    pattern = {"a": values, "b": {"c": [{"exists": True}]}}
    rules = RuleSet({"p": compile_pattern(pattern)})
    assert rules.matching(event) == (["p"] if ref(pattern, event) else [])


@settings(max_examples=1500, deadline=None)
@given(matchers, st.one_of(scalars, st.lists(scalars, max_size=3)), st.booleans())
def test_each_matcher_agrees_with_the_reference(matcher: Any, value: Any, present: bool) -> None:
    pattern = {"a": [matcher]}
    event = {"a": value} if present else {"b": value}
    assert compile_pattern(pattern).matches(event) == ref(pattern, event)
