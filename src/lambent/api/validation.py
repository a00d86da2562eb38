"""Validation against the model's constraints, with AWS's message format.

1 validation error detected: Value '20000' at 'memorySize' failed to satisfy
constraint: Member must have value less than or equal to 10240
"""

from __future__ import annotations

import functools
import re
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from lambent.errors import ValidationError

_MAX_REPORTED = 10


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "[binary]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | dict):
        return str(value)
    return str(value)


class _Collector:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, value: Any, path: str, constraint: str) -> None:
        shown = "null" if value is None else f"'{_show(value)}'"
        self.problems.append(
            f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"
        )


def validate(shape: Shape | None, params: dict[str, Any]) -> None:
    """Raise ValidationError listing every broken constraint, as AWS does."""
    if shape is None:
        return
    out = _Collector()
    _structure(shape, params, "", out)
    if out.problems:
        count = len(out.problems)
        noun = "error" if count == 1 else "errors"
        shown = out.problems[:_MAX_REPORTED]
        raise ValidationError(f"{count} validation {noun} detected: " + "; ".join(shown))


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{_camel(name)}" if prefix else _camel(name)


def _structure(shape: Shape, value: Any, path: str, out: _Collector) -> None:
    assert isinstance(shape, StructureShape)
    if not isinstance(value, dict):
        return
    for req in shape.required_members:
        if value.get(req) is None:
            out.add(None, _join(path, req), "Member must not be null")
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            _value(member, item, _join(path, name), out)


def _value(shape: Shape, value: Any, path: str, out: _Collector) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        _structure(shape, value, path, out)
    elif kind == "list":
        assert isinstance(shape, ListShape)
        _length(meta, value, path, out, "length")
        for i, item in enumerate(value if isinstance(value, list) else []):
            if item is not None:
                _value(shape.member, item, f"{path}.{i + 1}.member", out)
    elif kind == "map":
        assert isinstance(shape, MapShape)
        _length(meta, value, path, out, "length")
        if isinstance(value, dict):
            for k, v in value.items():
                _value(shape.key, k, f"{path}.key", out)
                if v is not None:
                    _value(shape.value, v, f"{path}.{k}.member", out)
    elif kind == "string":
        _string(meta, value, path, out)
    elif kind in ("integer", "long", "float", "double"):
        _number(meta, value, path, out)
    elif kind == "blob":
        _length(meta, value, path, out, "length")


def _string(meta: dict[str, Any], value: Any, path: str, out: _Collector) -> None:
    if not isinstance(value, str):
        return
    _length(meta, value, path, out, "length")
    enum = meta.get("enum")
    if enum and value not in enum:
        out.add(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        return
    pattern = meta.get("pattern")
    if pattern and value:
        compiled = _compiled(pattern)
        if compiled is not None and compiled.fullmatch(value) is None:
            out.add(value, path, f"Member must satisfy regular expression pattern: {pattern}")


def _length(meta: dict[str, Any], value: Any, path: str, out: _Collector, what: str) -> None:
    try:
        size = len(value)
    except TypeError:
        return
    low, high = meta.get("min"), meta.get("max")
    if low is not None and size < low:
        out.add(value, path, f"Member must have {what} greater than or equal to {low}")
    elif high is not None and size > high:
        out.add(value, path, f"Member must have {what} less than or equal to {high}")


def _number(meta: dict[str, Any], value: Any, path: str, out: _Collector) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    low, high = meta.get("min"), meta.get("max")
    if low is not None and value < low:
        out.add(value, path, f"Member must have value greater than or equal to {low}")
    elif high is not None and value > high:
        out.add(value, path, f"Member must have value less than or equal to {high}")
