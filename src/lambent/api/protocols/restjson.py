"""rest-json (Lambda): members placed by `location` in the path, query, headers and body."""

from __future__ import annotations

import json
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from lambent.api.protocols.values import (
    ErrorFactory,
    from_json,
    header_text,
    scalar_from_text,
    to_json,
)
from lambent.errors import InvalidRequestContent
from lambent.http.messages import Request, Response

JSON_TYPE = "application/json"


def _bad_content(message: str) -> InvalidRequestContent:
    return InvalidRequestContent(message)


def parse_request(
    op: OperationModel,
    req: Request,
    path_params: dict[str, str],
    error: ErrorFactory = _bad_content,
) -> dict[str, Any]:
    shape = op.input_shape
    if shape is None:
        return {}
    assert isinstance(shape, StructureShape)
    params: dict[str, Any] = {}
    query: dict[str, list[str]] | None = None
    payload_name = shape.serialization.get("payload")
    body_members = False
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if loc == "uri":
            if wire in path_params:
                params[name] = scalar_from_text(member, path_params[wire], name, error)
        elif loc == "querystring":
            if query is None:
                query = _query(req)
            value = _from_query(member, wire, query, shape, error)
            if value is not None:
                params[name] = value
        elif loc == "header":
            text = req.headers.get(wire.lower())
            if text is not None:
                params[name] = scalar_from_text(member, text, wire, error)
        elif loc == "headers":
            prefix = wire.lower()
            found = {k[len(prefix) :]: v for k, v in req.headers.items() if k.startswith(prefix)}
            if found:
                params[name] = found
        elif name == payload_name:
            _payload_in(member, name, req.body, params, error)
        elif loc is None:
            body_members = True
    if body_members and payload_name is None and req.body.strip():
        doc = _json_body(req.body, error)
        body = from_json(shape, doc, "", error)
        for key, value in body.items():
            member = shape.members[key]
            if member.serialization.get("location") is None:
                params[key] = value
    return params


def _payload_in(
    member: Shape, name: str, body: bytes, params: dict[str, Any], error: ErrorFactory
) -> None:
    kind = member.type_name
    if kind == "blob":
        params[name] = body
    elif kind == "string":
        params[name] = body.decode("utf-8", "replace")
    elif body.strip():
        params[name] = from_json(member, _json_body(body, error), name, error)


def _json_body(body: bytes, error: ErrorFactory) -> Any:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(
            f"Could not parse request body into json: Could not parse payload into json: {exc}"
        ) from exc
    if not isinstance(doc, dict):
        raise error(
            "Could not parse request body into json: Could not parse payload into json: "
            "the body is not a JSON object"
        )
    return doc


def _query(req: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in req.query_pairs():
        out.setdefault(key, []).append(value)
    return out


def _from_query(
    member: Shape,
    wire: str,
    query: dict[str, list[str]],
    parent: StructureShape,
    error: ErrorFactory,
) -> Any:
    if isinstance(member, MapShape):
        named = {
            m.serialization.get("name")
            for m in parent.members.values()
            if m.serialization.get("location") == "querystring"
        }
        return {k: v[-1] for k, v in query.items() if k not in named} or None
    values = query.get(wire)
    if not values:
        return None
    if isinstance(member, ListShape):
        return [scalar_from_text(member.member, v, wire, error) for v in values]
    return scalar_from_text(member, values[-1], wire, error)


def serialize_response(op: OperationModel, result: dict[str, Any] | None) -> Response:
    status = int(op.http.get("responseCode", 200))
    headers: list[tuple[str, str]] = []
    shape = op.output_shape
    if shape is None or result is None:
        return Response(status, b"", headers)
    assert isinstance(shape, StructureShape)
    payload_name = shape.serialization.get("payload")
    body: bytes | None = None
    for name, member in shape.members.items():
        value = result.get(name)
        if value is None:
            continue
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if loc == "statusCode":
            status = int(value)
        elif loc == "header":
            headers.append((wire, header_text(member, value)))
        elif loc == "headers":
            headers.extend((f"{wire}{k}", str(v)) for k, v in value.items())
        elif name == payload_name:
            body = _payload_out(member, value)
            if member.type_name == "structure":
                headers.append(("Content-Type", JSON_TYPE))
    if payload_name is None and status != 204:  # a 204 carries no body
        doc = to_json(shape, result)
        body = json.dumps(doc, separators=(",", ":")).encode()
        headers.append(("Content-Type", JSON_TYPE))
    return Response(status, body or b"", headers)


def _payload_out(member: Shape, value: Any) -> bytes:
    if member.type_name == "blob":
        return value if isinstance(value, bytes) else str(value).encode()
    if member.type_name == "string":
        return str(value).encode()
    return json.dumps(to_json(member, value), separators=(",", ":")).encode()
