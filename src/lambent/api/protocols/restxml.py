"""rest-xml (S3): members in the path, query and headers; the payload raw bytes or XML.

Requests: an `aws-chunked` body (a streaming SigV4 upload) is unframed here, because it is
HTTP-level framing the operation never sees; its trailing headers (the x-amz-checksum-*
that an SDK computes while it sends) then count as request headers, which is where the
model places those members. Responses: header members, then either a raw payload (GetObject)
or one XML document. Errors: S3's bare `<Error>` document; a HEAD answer carries no body.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from lambent.api.protocols import xmlvalues
from lambent.api.protocols.values import (
    ErrorFactory,
    from_query,
    parse_timestamp,
    query_values,
    scalar_from_text,
)
from lambent.api.protocols.wire import WireError
from lambent.auth import chunked
from lambent.errors import (
    ClientError,
    S3IncompleteBody,
    S3InvalidArgument,
    S3MalformedXML,
)
from lambent.http.messages import Request, Response

XML_TYPE = "application/xml"

# The namespace a service writes on its documents when the model does not name one.
NAMESPACES: dict[str, str] = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}

# Root elements of output documents, as the service documents them (the model leaves them out).
ROOTS: dict[str, str] = {
    "ListBucketsOutput": "ListAllMyBucketsResult",
    "ListObjectsOutput": "ListBucketResult",
    "ListObjectsV2Output": "ListBucketResult",
    "ListObjectVersionsOutput": "ListVersionsResult",
    "GetBucketVersioningOutput": "VersioningConfiguration",
    "GetBucketTaggingOutput": "Tagging",
    "GetObjectTaggingOutput": "Tagging",
    "DeleteObjectsOutput": "DeleteResult",
    "GetBucketLocationOutput": "LocationConstraint",
    "CreateMultipartUploadOutput": "InitiateMultipartUploadResult",
    "CompleteMultipartUploadOutput": "CompleteMultipartUploadResult",
    "ListMultipartUploadsOutput": "ListMultipartUploadsResult",
    "ListPartsOutput": "ListPartsResult",
}


def _invalid_argument(message: str) -> ClientError:
    return S3InvalidArgument(message)


@dataclass(frozen=True, slots=True)
class Payload:
    """The request's payload with any aws-chunked framing removed."""

    data: bytes
    trailers: dict[str, str]
    was_chunked: bool


def request_payload(req: Request) -> Payload:
    encoding = req.headers.get("content-encoding", "")
    declared = req.headers.get("x-amz-content-sha256", "")
    if "aws-chunked" not in encoding and not declared.startswith("STREAMING-"):
        return Payload(req.body, {}, False)
    try:
        parsed = chunked.parse(req.body)
    except chunked.MalformedChunks as exc:
        raise S3IncompleteBody(f"The request body is not valid aws-chunked data: {exc}") from exc
    data = parsed.payload()
    decoded = req.headers.get("x-amz-decoded-content-length")
    if decoded is not None and decoded.strip().isdigit() and int(decoded) != len(data):
        raise S3IncompleteBody(
            "You did not provide the number of bytes specified by the Content-Length HTTP header"
        )
    return Payload(data, parsed.trailers, True)


def _strip_aws_chunked(value: str) -> str | None:
    kept = [p.strip() for p in value.split(",") if p.strip() and p.strip() != "aws-chunked"]
    return ",".join(kept) or None


def parse_request(
    op: OperationModel,
    req: Request,
    path_params: dict[str, str],
    error: ErrorFactory = _invalid_argument,
) -> dict[str, Any]:
    shape = op.input_shape
    if shape is None:
        return {}
    assert isinstance(shape, StructureShape)
    payload = request_payload(req)
    headers = {**req.headers, **payload.trailers} if payload.trailers else req.headers
    query = query_values(req.query_pairs())
    params: dict[str, Any] = {}
    payload_name = shape.serialization.get("payload")
    named_query = {
        str(m.serialization.get("name", n))
        for n, m in shape.members.items()
        if m.serialization.get("location") == "querystring"
    }
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        wire = str(member.serialization.get("name", name))
        value: Any = None
        if loc == "uri":
            if wire in path_params:
                value = scalar_from_text(member, path_params[wire], name, error)
        elif loc == "querystring":
            value = from_query(member, wire, query, named_query, error)
        elif loc == "header":
            sent = headers.get(wire.lower())
            if sent is not None:
                value = header_value(member, sent, wire, error)
        elif loc == "headers":
            prefix = wire.lower()
            value = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
            value = value or None
        elif name == payload_name:
            value = _payload_in(member, payload.data)
        if value is not None:
            params[name] = value
    if payload.was_chunked and "ContentEncoding" in params:
        stripped = _strip_aws_chunked(str(params["ContentEncoding"]))
        params.pop("ContentEncoding")
        if stripped:
            params["ContentEncoding"] = stripped
    if payload_name is None and payload.data.strip():
        root = xmlvalues.parse_document(payload.data, S3MalformedXML)
        params.update(xmlvalues.from_xml(shape, root, S3MalformedXML))
    return params


def header_value(shape: Shape, text: str, wire: str, error: ErrorFactory) -> Any:
    if shape.type_name == "timestamp":
        try:
            return email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            try:
                return parse_timestamp(text)
            except ValueError as exc:
                raise error(f"Invalid date in {wire}: {text}") from exc
    if isinstance(shape, ListShape):
        return [scalar_from_text(shape.member, v.strip(), wire, error) for v in text.split(",")]
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        try:
            return json.loads(base64.b64decode(text))
        except ValueError as exc:
            raise error(f"Invalid value in {wire}") from exc
    return scalar_from_text(shape, text, wire, error)


def _payload_in(member: Shape, data: bytes) -> Any:
    if member.type_name == "blob":
        return data
    if member.type_name == "string":
        return data.decode("utf-8", "replace")
    if not data.strip():
        return None
    root = xmlvalues.parse_document(data, S3MalformedXML)
    return xmlvalues.from_xml(member, root, S3MalformedXML)


# -- responses -----------------------------------------------------------------------------


def header_text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        stamp = value if isinstance(value, dt.datetime) else parse_timestamp(value)
        if shape.serialization.get("timestampFormat") == "iso8601":
            return xmlvalues.iso8601_ms(stamp)
        return email.utils.format_datetime(stamp.astimezone(dt.UTC), usegmt=True)
    if shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value).encode()).decode()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)


def serialize_response(
    op: OperationModel, result: dict[str, Any] | None, request_id: str
) -> Response:
    status = int(op.http.get("responseCode", 200))
    headers: list[tuple[str, str]] = [("x-amz-request-id", request_id)]
    shape = op.output_shape
    if shape is None or result is None:
        return Response(status, b"", headers)
    assert isinstance(shape, StructureShape)
    payload_name = shape.serialization.get("payload")
    service = op.service_model.service_name
    body = b""
    length: int | None = None
    has_body_members = False
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        if loc is None and name != payload_name:
            has_body_members = True
        value = result.get(name)
        if value is None:
            continue
        wire = str(member.serialization.get("name", name))
        if loc == "statusCode":
            status = int(value)
        elif loc == "header":
            if wire.lower() == "content-length":
                length = int(value)
            else:
                headers.append((wire, header_text(member, value)))
                if wire.lower() == "content-range" and status == 200:
                    status = 206  # a part of the representation (RFC 9110 15.3.7)
        elif loc == "headers":
            headers.extend((f"{wire}{k}", str(v)) for k, v in value.items())
        elif name == payload_name:
            body = _payload_out(member, name, value, service, headers)
    if payload_name is None and has_body_members:
        root = ROOTS.get(shape.name, f"{op.name}Result")
        body = _document(shape, root, result, NAMESPACES.get(service))
        headers.append(("Content-Type", XML_TYPE))
    resp = Response(status, body, headers)
    if op.http.get("method") == "HEAD":
        resp.body = b""
        resp.content_length = length if length is not None else 0
    return resp


def _document(shape: StructureShape, root: str, result: dict[str, Any], ns: str | None) -> bytes:
    names = [n for n, m in shape.members.items() if not m.serialization.get("location")]
    # A one-member output whose member is the root (GetBucketLocation's LocationConstraint).
    if len(names) == 1:
        member = shape.members[names[0]]
        is_root = xmlvalues.element_name(member, names[0]) == root
        if is_root and not isinstance(member, StructureShape | ListShape | MapShape):
            value = result.get(names[0])
            text = "" if value is None else escape(xmlvalues.scalar_text(member, value))
            xmlns = f' xmlns="{ns}"' if ns else ""
            head = '<?xml version="1.0" encoding="UTF-8"?>\n'
            return f"{head}<{root}{xmlns}>{text}</{root}>".encode()
    return xmlvalues.document(shape, root, result, ns)


def _payload_out(
    member: Shape, name: str, value: Any, service: str, headers: list[tuple[str, str]]
) -> bytes:
    if member.type_name == "blob":
        return value if isinstance(value, bytes) else str(value).encode()
    if member.type_name == "string":
        return str(value).encode()
    root = xmlvalues.element_name(member, name)
    ns = member.serialization.get("xmlNamespace")
    uri = str(ns.get("uri")) if isinstance(ns, dict) else NAMESPACES.get(service)
    headers.append(("Content-Type", XML_TYPE))
    return xmlvalues.document(member, root, value, uri)


def serialize_error(
    wire: WireError, message: str, fields: Mapping[str, Any], request_id: str
) -> Response:
    """S3's error document: Code, Message, the error's own fields, RequestId, HostId."""
    host_id = base64.b64encode(request_id.encode()).decode()
    headers = [
        ("Content-Type", XML_TYPE),
        ("x-amz-request-id", request_id),
        ("x-amz-id-2", host_id),
    ]
    headers.extend(wire.headers)
    if wire.status == 304:
        return Response(wire.status, b"", headers)
    extra = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items() if v is not None)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(wire.code)}</Code><Message>{escape(message)}</Message>{extra}"
        f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    )
    return Response(wire.status, body.encode(), headers)
