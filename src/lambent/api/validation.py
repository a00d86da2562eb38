"""Validation against the model's constraints, with AWS's message format.

    1 validation error detected: Value '20000' at 'memorySize' failed to satisfy
    constraint: Member must have value less than or equal to 10240

Each shape is compiled once into a checking function (limits read, patterns compiled), so
validating a request costs a few calls per member present, not a walk of the model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from lambent.errors import ValidationError

_MAX_REPORTED = 10

Problems = list[str]
Check = Callable[[Any, str, Problems], None]

# Compiled checks, keyed by the shape object's identity: shapes are immutable and live as
# long as the loaded models, so this is a memo of derived data, not mutable state.
_COMPILED: dict[int, tuple[Shape, Check]] = {}


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def java_double(value: float) -> str:
    """A double as Java's Double.toString shows it (AWS's messages are Java's): 2.0, 1.0E-5."""
    if math.isnan(value):
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        return repr(float(value))
    sign, digits, exponent = Decimal(repr(float(value))).as_tuple()
    assert isinstance(exponent, int)
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    power = exponent + len(digits) - 1
    return ("-" if sign else "") + f"{shown[0]}.{shown[1:] or '0'}E{power}"


def _show(value: Any) -> str:
    """A value as AWS's (Java) messages print it: lists `[a, b]`, maps `{k=v}`."""
    if isinstance(value, bytes):
        return "[binary]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_show(k)}={_show(v)}" for k, v in value.items()) + "}"
    return "null" if value is None else str(value)


def _problem(
    out: Problems, value: Any, path: str, constraint: str, *, hidden: bool = False
) -> None:
    """`hidden`: a sensitive member; AWS names where it failed, never the value."""
    shown = "" if hidden else " null" if value is None else f" '{_show(value)}'"
    out.append(f"Value{shown} at '{path}' failed to satisfy constraint: {constraint}")


def validate(
    shape: Shape | None, params: dict[str, Any], *, skip: frozenset[str] | None = None
) -> None:
    """Raise ValidationError listing every broken constraint, as AWS does; top-level
    members in `skip` are left to the service, which checks them itself."""
    if shape is None:
        return
    absent: frozenset[str] = frozenset()
    if skip:
        absent = frozenset(k for k in skip if k in params)
        params = {k: v for k, v in params.items() if k not in skip}
    problems: Problems = []
    compiled(shape)(params, "", problems)
    if absent:  # a required member the service checks itself is present, not null
        gone = {f"Value null at '{k[:1].lower()}{k[1:]}' " for k in absent}
        problems = [p for p in problems if not any(p.startswith(g) for g in gone)]
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        shown = problems[:_MAX_REPORTED]
        raise ValidationError(f"{count} validation {noun} detected: " + "; ".join(shown))


def compiled(shape: Shape) -> Check:
    found = _COMPILED.get(id(shape))
    if found is not None and found[0] is shape:
        return found[1]
    check = _compile(shape)
    _COMPILED[id(shape)] = (shape, check)
    return check


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{_camel(name)}" if prefix else _camel(name)


def _compile(shape: Shape) -> Check:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return _structure(shape)
    if kind == "list":
        assert isinstance(shape, ListShape)
        return _list(shape)
    if kind == "map":
        assert isinstance(shape, MapShape)
        return _map(shape)
    if kind == "string":
        return _string(shape.metadata, hidden=_sensitive(shape))
    if kind in ("integer", "long", "float", "double"):
        return _number(shape.metadata)
    if kind == "blob":
        return _length(shape.metadata)
    return _nothing


def _nothing(value: Any, path: str, out: Problems) -> None:
    return None


def _structure(shape: StructureShape) -> Check:
    required = tuple(shape.required_members)
    # Member checks are compiled lazily: recursive shapes refer to themselves.
    members = tuple(shape.members.items())

    def check(value: Any, path: str, out: Problems) -> None:
        if not isinstance(value, dict):
            return
        for req in required:
            if value.get(req) is None:
                _problem(out, None, _join(path, req), "Member must not be null")
        for name, member in members:
            item = value.get(name)
            if item is not None:
                compiled(member)(item, _join(path, name), out)

    return check


def _sensitive(*shapes: Shape) -> bool:
    return any(shape.metadata.get("sensitive") for shape in shapes)


_DOUBLES = frozenset({"float", "double"})
Rule = tuple[tuple[str, ...], Callable[[Any], bool]]


_SCALARS = frozenset({"string", "integer", "long", "float", "double"})


def _member_rule(shape: Shape) -> Rule | None:
    """A collection's scalar member as AWS reports it: every constraint it carries, and
    whether a value meets them all. None for members checked one by one (structures)."""
    if shape.type_name not in _SCALARS:
        return None
    check = compiled(shape)

    def ok(value: Any) -> bool:
        found: Problems = []
        check(value, "", found)
        return not found

    return tuple(_constraint_texts(shape)), ok


def _constraint_texts(shape: Shape) -> list[str]:
    """In AWS's order: the upper bound, the lower bound, the enum, the pattern."""
    meta = shape.metadata
    unit = "length" if shape.type_name == "string" else "value"
    texts = []
    if meta.get("max") is not None:
        texts.append(f"Member must have {unit} less than or equal to {meta['max']}")
    if meta.get("min") is not None:
        texts.append(f"Member must have {unit} greater than or equal to {meta['min']}")
    if meta.get("enum"):
        texts.append(f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]")
    if _pattern(meta.get("pattern")) is not None:
        texts.append(f"Member must satisfy regular expression pattern: {meta['pattern']}")
    return texts


def _bracket(texts: tuple[str, ...], *, not_null: bool) -> str:
    return "[" + ", ".join([*texts, *(["Member must not be null"] if not_null else [])]) + "]"


def _list(shape: ListShape) -> Check:
    """A list of scalars is reported as one value, AWS's way: `Value '[foo]' at
    'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member
    must satisfy enum value set: [x86_64, arm64], Member must not be null]`."""
    length = _length(shape.metadata)
    member = shape.member
    rule = _member_rule(member)
    hidden = _sensitive(shape, member)
    if rule is None:

        def each(value: Any, path: str, out: Problems) -> None:
            length(value, path, out)
            if isinstance(value, list):
                inner = compiled(member)
                for i, item in enumerate(value):
                    if item is not None:
                        inner(item, f"{path}.{i + 1}.member", out)

        return each
    texts, ok = rule
    constraint = "Member must satisfy constraint: " + _bracket(texts, not_null=True)
    if member.name == "Runtime":
        # A list of runtimes (compatibleRuntimes) AWS reports without the wrapper:
        # `...failed to satisfy constraint: Member must satisfy enum value set: [...]`.
        constraint = ", ".join(texts)

    def whole(value: Any, path: str, out: Problems) -> None:
        length(value, path, out)
        if isinstance(value, list) and any(item is None or not ok(item) for item in value):
            _problem(out, value, path, constraint, hidden=hidden)

    return whole


def _map(shape: MapShape) -> Check:
    """Keys and scalar values are reported on the whole map, shown Java-style:
    `Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy
    constraint: Map value must satisfy constraint: [Member must have value less than or
    equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be
    null]`."""
    length = _length(shape.metadata)
    key_shape, value_shape = shape.key, shape.value
    key_rule, value_rule = _member_rule(key_shape), _member_rule(value_shape)
    hidden = _sensitive(shape, key_shape, value_shape)
    doubles = value_shape.type_name in _DOUBLES

    def check(value: Any, path: str, out: Problems) -> None:
        length(value, path, out)
        if not isinstance(value, dict):
            return
        shown = _as_doubles(value) if doubles else value
        if key_rule is not None and not all(key_rule[1](k) for k in value):
            constraint = "Map keys must satisfy constraint: " + _bracket(
                key_rule[0], not_null=False
            )
            _problem(out, shown, path, constraint, hidden=hidden)
        if value_rule is not None:
            if any(v is None or not value_rule[1](v) for v in value.values()):
                bracket = _bracket(value_rule[0], not_null=True)
                _problem(
                    out, shown, path, f"Map value must satisfy constraint: {bracket}", hidden=hidden
                )
            return
        values = compiled(value_shape)
        for k, v in value.items():
            if v is not None:
                values(v, f"{path}.{k}.member", out)

    return check


def _as_doubles(value: dict[Any, Any]) -> dict[Any, Any]:
    """A map of doubles as Java holds it: 2 is 2.0."""
    return {
        k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in value.items()
    }


def _pattern(text: str | None) -> re.Pattern[str] | None:
    if not text:
        return None
    try:
        return re.compile(text, re.DOTALL)
    except re.error:
        return None


def _string(meta: dict[str, Any], *, hidden: bool = False) -> Check:
    length = _length(meta, hidden=hidden)
    enum = tuple(meta.get("enum") or ())
    enum_set = frozenset(enum)
    pattern_text = meta.get("pattern")
    pattern = _pattern(pattern_text)

    def check(value: Any, path: str, out: Problems) -> None:
        if not isinstance(value, str):
            return
        length(value, path, out)
        if enum_set and value not in enum_set:
            constraint = f"Member must satisfy enum value set: [{', '.join(enum)}]"
            _problem(out, value, path, constraint, hidden=hidden)
            return
        if pattern is not None and value and pattern.fullmatch(value) is None:
            constraint = f"Member must satisfy regular expression pattern: {pattern_text}"
            _problem(out, value, path, constraint, hidden=hidden)

    return check


def _length(meta: dict[str, Any], *, hidden: bool = False) -> Check:
    low, high = meta.get("min"), meta.get("max")
    if low is None and high is None:
        return _nothing

    def check(value: Any, path: str, out: Problems) -> None:
        try:
            size = len(value)
        except TypeError:
            return
        if low is not None and size < low:
            constraint = f"Member must have length greater than or equal to {low}"
            _problem(out, value, path, constraint, hidden=hidden)
        elif high is not None and size > high:
            constraint = f"Member must have length less than or equal to {high}"
            _problem(out, value, path, constraint, hidden=hidden)

    return check


def _number(meta: dict[str, Any]) -> Check:
    low, high = meta.get("min"), meta.get("max")
    if low is None and high is None:
        return _nothing

    def check(value: Any, path: str, out: Problems) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        if low is not None and value < low:
            _problem(out, value, path, f"Member must have value greater than or equal to {low}")
        elif high is not None and value > high:
            _problem(out, value, path, f"Member must have value less than or equal to {high}")

    return check
