"""Typed values to and from the wire, by shape: shared by the three protocols."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
from collections.abc import Callable, Collection, Iterable
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from lambent.errors import ClientError

ErrorFactory = Callable[[str], ClientError]


def parse_timestamp(value: Any) -> dt.datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.datetime.fromtimestamp(float(text), tz=dt.UTC)
        except ValueError:
            pass
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise ValueError(f"not a timestamp: {value!r}")


def iso8601(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{value.microsecond // 1000:03d}Z" if value.microsecond else "Z"
    )


def scalar_from_text(shape: Shape, text: str, where: str, error: ErrorFactory) -> Any:
    """A scalar from a URI label, query string, header or query-protocol field."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            low = text.lower()
            if low not in ("true", "false"):
                raise ValueError(text)
            return low == "true"
        if kind == "timestamp":
            return parse_timestamp(text)
        if kind == "blob":
            return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise error(f"Could not parse {where}: value '{text}' is not a valid {kind}") from exc
    if shape.serialization.get("jsonvalue"):
        try:
            return json.loads(base64.b64decode(text))
        except (ValueError, binascii.Error) as exc:
            raise error(f"Could not parse {where}: value is not base64 JSON") from exc
    return text


def from_json(shape: Shape, value: Any, where: str, error: ErrorFactory) -> Any:
    """A JSON-decoded value checked and converted to the shape's Python type."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if shape.metadata.get("document"):
            return value
        if not isinstance(value, dict):
            raise error(_type_message(where, "structure", value))
        members = shape.members
        return {
            name: from_json(members[name], item, f"{where}.{name}", error)
            for name, item in value.items()
            if name in members
        }
    if kind == "list":
        assert isinstance(shape, ListShape)
        if not isinstance(value, list):
            raise error(_type_message(where, "list", value))
        return [from_json(shape.member, item, where, error) for item in value]
    if kind == "map":
        assert isinstance(shape, MapShape)
        if not isinstance(value, dict):
            raise error(_type_message(where, "map", value))
        return {str(k): from_json(shape.value, v, f"{where}.{k}", error) for k, v in value.items()}
    return _scalar_from_json(shape, value, where, error)


def _scalar_from_json(shape: Shape, value: Any, where: str, error: ErrorFactory) -> Any:
    kind = shape.type_name
    if kind == "string":
        if isinstance(value, str):
            return value
        raise error(_type_message(where, "string", value))
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise error(_type_message(where, kind, value))
        if isinstance(value, float) and not value.is_integer():
            raise error(_type_message(where, kind, value))
        return int(value)
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise error(_type_message(where, kind, value))
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise error(_type_message(where, "boolean", value))
        return value
    if kind == "blob":
        if not isinstance(value, str):
            raise error(_type_message(where, "blob", value))
        try:
            return base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise error(f"Could not parse request body into json: {where} is not base64") from exc
    if kind == "timestamp":
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            raise error(_type_message(where, "timestamp", value)) from exc
    return value


def _type_message(where: str, expected: str, value: Any) -> str:
    got = type(value).__name__
    return (
        "Could not parse request body into json: Could not parse payload into json: "
        f"Cannot deserialize value of type `{expected}` from {got} at '{where.lstrip('.')}'"
    )


def to_json(shape: Shape, value: Any, timestamps: str = "unixTimestamp") -> Any:
    """A Python value rendered for a JSON body, keeping only modelled members."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if shape.metadata.get("document") or not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            item = value.get(name)
            if item is not None:
                key = member.serialization.get("name", name)
                out[key] = to_json(member, item, timestamps)
        return out
    if kind == "list":
        assert isinstance(shape, ListShape)
        return [to_json(shape.member, item, timestamps) for item in value]
    if kind == "map":
        assert isinstance(shape, MapShape)
        return {k: to_json(shape.value, v, timestamps) for k, v in value.items()}
    if kind == "blob":
        raw = value if isinstance(value, bytes) else str(value).encode()
        return base64.b64encode(raw).decode()
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", timestamps)
        stamp = value if isinstance(value, dt.datetime) else parse_timestamp(value)
        if fmt == "iso8601":
            return iso8601(stamp)
        seconds = stamp.timestamp()
        return int(seconds) if math.isclose(seconds, int(seconds)) else round(seconds, 3)
    return value


def header_text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        stamp = value if isinstance(value, dt.datetime) else parse_timestamp(value)
        return stamp.strftime("%a, %d %b %Y %H:%M:%S GMT")
    if shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value).encode()).decode()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)


def query_values(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """A query string's values by name, repeated names kept in order."""
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def from_query(
    member: Shape,
    wire: str,
    query: dict[str, list[str]],
    named: Collection[str],
    error: ErrorFactory,
) -> Any:
    """A querystring member (rest protocols): a map takes every parameter not named by
    another member; a list takes every value; a scalar takes the last one."""
    if isinstance(member, MapShape):
        return {k: v[-1] for k, v in query.items() if k not in named} or None
    values = query.get(wire)
    if not values:
        return None
    if isinstance(member, ListShape):
        return [scalar_from_text(member.member, v, wire, error) for v in values]
    return scalar_from_text(member, values[-1], wire, error)
