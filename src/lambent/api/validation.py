"""Validation against the model's constraints, with AWS's message format.

    1 validation error detected: Value '20000' at 'memorySize' failed to satisfy
    constraint: Member must have value less than or equal to 10240

Each shape is compiled once into a checking function (limits read, patterns compiled), so
validating a request costs a few calls per member present, not a walk of the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "[binary]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return str(value)


def _problem(out: Problems, value: Any, path: str, constraint: str) -> None:
    shown = "null" if value is None else f"'{_show(value)}'"
    out.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")


def validate(shape: Shape | None, params: dict[str, Any]) -> None:
    """Raise ValidationError listing every broken constraint, as AWS does."""
    if shape is None:
        return
    problems: Problems = []
    compiled(shape)(params, "", problems)
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
        return _string(shape.metadata)
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


def _list(shape: ListShape) -> Check:
    length = _length(shape.metadata)
    member = shape.member
    enum = member.metadata.get("enum") if member.type_name == "string" else None
    if enum:
        return _enum_list(length, tuple(enum))

    def check(value: Any, path: str, out: Problems) -> None:
        length(value, path, out)
        if isinstance(value, list):
            inner = compiled(member)
            for i, item in enumerate(value):
                if item is not None:
                    inner(item, f"{path}.{i + 1}.member", out)

    return check


def _enum_list(length: Check, enum: tuple[str, ...]) -> Check:
    """AWS reports a list of enums as one value: `Value '[foo]' at 'architectures' failed
    to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value
    set: [x86_64, arm64], Member must not be null]`."""
    allowed = frozenset(enum)
    constraint = (
        "Member must satisfy constraint: [Member must satisfy enum value set: "
        f"[{', '.join(enum)}], Member must not be null]"
    )

    def check(value: Any, path: str, out: Problems) -> None:
        length(value, path, out)
        if isinstance(value, list) and any(item not in allowed for item in value):
            _problem(out, value, path, constraint)

    return check


def _map(shape: MapShape) -> Check:
    length = _length(shape.metadata)
    key_shape, value_shape = shape.key, shape.value

    def check(value: Any, path: str, out: Problems) -> None:
        length(value, path, out)
        if isinstance(value, dict):
            keys, values = compiled(key_shape), compiled(value_shape)
            for k, v in value.items():
                keys(k, f"{path}.key", out)
                if v is not None:
                    values(v, f"{path}.{k}.member", out)

    return check


def _string(meta: dict[str, Any]) -> Check:
    length = _length(meta)
    enum = tuple(meta.get("enum") or ())
    enum_set = frozenset(enum)
    pattern_text = meta.get("pattern")
    pattern: re.Pattern[str] | None = None
    if pattern_text:
        try:
            pattern = re.compile(pattern_text, re.DOTALL)
        except re.error:
            pattern = None

    def check(value: Any, path: str, out: Problems) -> None:
        if not isinstance(value, str):
            return
        length(value, path, out)
        if enum_set and value not in enum_set:
            _problem(out, value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
            return
        if pattern is not None and value and pattern.fullmatch(value) is None:
            _problem(
                out, value, path, f"Member must satisfy regular expression pattern: {pattern_text}"
            )

    return check


def _length(meta: dict[str, Any]) -> Check:
    low, high = meta.get("min"), meta.get("max")
    if low is None and high is None:
        return _nothing

    def check(value: Any, path: str, out: Problems) -> None:
        try:
            size = len(value)
        except TypeError:
            return
        if low is not None and size < low:
            _problem(out, value, path, f"Member must have length greater than or equal to {low}")
        elif high is not None and size > high:
            _problem(out, value, path, f"Member must have length less than or equal to {high}")

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
