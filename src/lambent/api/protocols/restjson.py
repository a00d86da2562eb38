"""rest-json (Lambda): members placed by `location` in the path, query, headers and body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.model import OperationModel, Shape, StructureShape

from lambent.api.protocols.values import (
    ErrorFactory,
    from_json,
    from_query,
    header_text,
    query_values,
    scalar_from_text,
    to_json,
)
from lambent.errors import InvalidRequestContent
from lambent.http.messages import Request, Response

JSON_TYPE = "application/json"


def _bad_content(message: str) -> InvalidRequestContent:
    return InvalidRequestContent(message)


@dataclass(frozen=True, slots=True)
class _Member:
    name: str
    location: str | None
    wire: str
    header: str  # lower-cased wire name, as request headers are stored
    shape: Shape


@dataclass(frozen=True, slots=True)
class _Plan:
    """An operation's members and where they live, worked out once per operation."""

    shape: StructureShape | None
    members: tuple[_Member, ...]
    payload: str | None
    body_members: bool
    query_names: frozenset[str]


_PLANS: dict[tuple[str, str, str], _Plan] = {}


def _plan(op: OperationModel, output: bool) -> _Plan:
    key = (op.service_model.service_name, op.name, "out" if output else "in")
    plan = _PLANS.get(key)
    if plan is None:
        plan = _build_plan(op.output_shape if output else op.input_shape)
        _PLANS[key] = plan
    return plan


def _build_plan(shape: Shape | None) -> _Plan:
    if shape is None:
        return _Plan(None, (), None, False, frozenset())
    assert isinstance(shape, StructureShape)
    members = tuple(
        _Member(
            name,
            member.serialization.get("location"),
            member.serialization.get("name", name),
            str(member.serialization.get("name", name)).lower(),
            member,
        )
        for name, member in shape.members.items()
    )
    payload = shape.serialization.get("payload")
    return _Plan(
        shape,
        members,
        payload,
        any(m.location is None and m.name != payload for m in members),
        frozenset(m.wire for m in members if m.location == "querystring"),
    )


def parse_request(
    op: OperationModel,
    req: Request,
    path_params: dict[str, str],
    error: ErrorFactory = _bad_content,
) -> dict[str, Any]:
    plan = _plan(op, output=False)
    shape = plan.shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    query: dict[str, list[str]] | None = None
    for m in plan.members:
        loc = m.location
        if loc == "uri":
            if m.wire in path_params:
                params[m.name] = scalar_from_text(m.shape, path_params[m.wire], m.name, error)
        elif loc == "querystring":
            if query is None:
                query = query_values(req.query_pairs()) if req.raw_query else {}
            value = from_query(m.shape, m.wire, query, plan.query_names, error)
            if value is not None:
                params[m.name] = value
        elif loc == "header":
            text = req.headers.get(m.header)
            if text is not None:
                params[m.name] = scalar_from_text(m.shape, text, m.wire, error)
        elif loc == "headers":
            prefix = m.header
            found = {k[len(prefix) :]: v for k, v in req.headers.items() if k.startswith(prefix)}
            if found:
                params[m.name] = found
        elif m.name == plan.payload:
            _payload_in(m.shape, m.name, req.body, params, error)
    if plan.body_members and plan.payload is None and req.body.strip():
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


def serialize_response(op: OperationModel, result: dict[str, Any] | None) -> Response:
    status = int(op.http.get("responseCode", 200))
    headers: list[tuple[str, str]] = []
    plan = _plan(op, output=True)
    shape = plan.shape
    if shape is None or result is None:
        return Response(status, b"", headers)
    body: bytes | None = None
    for m in plan.members:
        value = result.get(m.name)
        if value is None:
            continue
        loc = m.location
        if loc == "statusCode":
            status = int(value)
        elif loc == "header":
            headers.append((m.wire, header_text(m.shape, value)))
        elif loc == "headers":
            headers.extend((f"{m.wire}{k}", str(v)) for k, v in value.items())
        elif m.name == plan.payload:
            body = _payload_out(m.shape, value)
            if m.shape.type_name == "structure":
                headers.append(("Content-Type", JSON_TYPE))
    if plan.payload is None and status != 204:  # a 204 carries no body
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
