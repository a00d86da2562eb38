"""The query protocol (IAM, STS): form-encoded input, XML output."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from lambent.api.protocols.values import ErrorFactory, iso8601, scalar_from_text
from lambent.api.protocols.wire import WireError
from lambent.errors import ClientError
from lambent.http.messages import Request, Response

XML_TYPE = "text/xml"


class MalformedInput(ClientError):
    code = "MalformedInput"


def _malformed(message: str) -> ClientError:
    return MalformedInput(message)


def form_params(req: Request) -> dict[str, str]:
    pairs = parse_qsl(req.raw_query, keep_blank_values=True)
    ctype = req.headers.get("content-type", "")
    if req.body and (not ctype or "x-www-form-urlencoded" in ctype):
        pairs += parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    return dict(pairs)


def parse_request(
    op: OperationModel, form: dict[str, str], error: ErrorFactory = _malformed
) -> dict[str, Any]:
    shape = op.input_shape
    if shape is None:
        return {}
    value = _structure(shape, form, "", error)
    return value or {}


def _key(member: Shape, name: str) -> str:
    return str(member.serialization.get("name", name))


def _structure(shape: Shape, form: dict[str, str], prefix: str, error: ErrorFactory) -> Any:
    assert isinstance(shape, StructureShape)
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        key = f"{prefix}{_key(member, name)}"
        value = _value(member, form, key, error)
        if value is not None:
            out[name] = value
    return out or None


def _value(shape: Shape, form: dict[str, str], key: str, error: ErrorFactory) -> Any:
    if isinstance(shape, StructureShape):
        if not any(k.startswith(key + ".") for k in form):
            return None
        return _structure(shape, form, key + ".", error) or {}
    if isinstance(shape, ListShape):
        return _list(shape, form, key, error)
    if isinstance(shape, MapShape):
        return _map(shape, form, key, error)
    if key not in form:
        return None
    return scalar_from_text(shape, form[key], key, error)


def _list(shape: ListShape, form: dict[str, str], key: str, error: ErrorFactory) -> Any:
    if shape.serialization.get("flattened"):
        base = key
    else:
        base = f"{key}.{shape.member.serialization.get('name', 'member')}"
    if key in form and form[key] == "":
        return []
    items: list[Any] = []
    index = 1
    while True:
        item = _value(shape.member, form, f"{base}.{index}", error)
        if item is None:
            break
        items.append(item)
        index += 1
    return items if items else None


def _map(shape: MapShape, form: dict[str, str], key: str, error: ErrorFactory) -> Any:
    base = key if shape.serialization.get("flattened") else f"{key}.entry"
    kname = shape.key.serialization.get("name", "key")
    vname = shape.value.serialization.get("name", "value")
    out: dict[str, Any] = {}
    index = 1
    while f"{base}.{index}.{kname}" in form:
        k = form[f"{base}.{index}.{kname}"]
        out[k] = _value(shape.value, form, f"{base}.{index}.{vname}", error)
        index += 1
    return out or None


def serialize_response(
    op: OperationModel, result: dict[str, Any] | None, namespace: str, request_id: str
) -> Response:
    name = op.name
    parts = [f'<{name}Response xmlns="{namespace}">']
    shape = op.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
        parts.append(f"<{wrapper}>")
        parts.append(_xml_members(shape, result or {}))
        parts.append(f"</{wrapper}>")
    parts.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
    parts.append(f"</{name}Response>")
    return Response(200, "".join(parts).encode(), [("Content-Type", XML_TYPE)])


def _xml_members(shape: Shape, value: dict[str, Any]) -> str:
    assert isinstance(shape, StructureShape)
    out: list[str] = []
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            out.append(_xml(member, _key(member, name), item))
    return "".join(out)


def _xml(shape: Shape, tag: str, value: Any) -> str:
    if isinstance(shape, StructureShape):
        return f"<{tag}>{_xml_members(shape, value)}</{tag}>"
    if isinstance(shape, ListShape):
        member_tag = shape.member.serialization.get("name", "member")
        if shape.serialization.get("flattened"):
            return "".join(_xml(shape.member, tag, v) for v in value)
        inner = "".join(_xml(shape.member, member_tag, v) for v in value)
        return f"<{tag}>{inner}</{tag}>"
    if isinstance(shape, MapShape):
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        if shape.serialization.get("flattened"):  # SQS: <Attribute><Name/><Value/></Attribute>
            return "".join(
                f"<{tag}><{kname}>{escape(str(k))}</{kname}>{_xml(shape.value, vname, v)}</{tag}>"
                for k, v in value.items()
            )
        entries = "".join(
            f"<entry><{kname}>{escape(str(k))}</{kname}>{_xml(shape.value, vname, v)}</entry>"
            for k, v in value.items()
        )
        return f"<{tag}>{entries}</{tag}>"
    return f"<{tag}>{escape(_text(shape, value))}</{tag}>"


def _text(shape: Shape, value: Any) -> str:
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp" and isinstance(value, dt.datetime):
        return iso8601(value)
    if shape.type_name == "blob" and isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if shape.type_name == "timestamp" and isinstance(value, int | float):
        return iso8601(dt.datetime.fromtimestamp(value, tz=dt.UTC))
    return str(value)


def serialize_error(wire: WireError, message: str, namespace: str, request_id: str) -> Response:
    kind = "Sender" if wire.sender_fault else "Receiver"
    body = (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(wire.code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    headers = [("Content-Type", XML_TYPE), ("x-amzn-RequestId", request_id)]
    headers.extend(wire.headers)
    return Response(wire.status, body.encode(), headers)
