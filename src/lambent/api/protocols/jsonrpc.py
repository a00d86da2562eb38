"""The json protocol (CloudWatch Logs): `X-Amz-Target` names the operation, JSON both ways."""

from __future__ import annotations

import json
from typing import Any

from botocore.model import OperationModel, ServiceModel

from lambent.api.protocols.values import from_json, to_json
from lambent.errors import ClientError, SerializationError
from lambent.http.messages import Request, Response


def content_type(service: ServiceModel) -> str:
    return f"application/x-amz-json-{service.metadata.get('jsonVersion', '1.1')}"


def operation_name(req: Request) -> str | None:
    target = req.headers.get("x-amz-target")
    if not target or "." not in target:
        return None
    return target.rsplit(".", 1)[1]


def _serialization(message: str) -> ClientError:
    return SerializationError(message)


def parse_request(op: OperationModel, req: Request) -> dict[str, Any]:
    shape = op.input_shape
    if shape is None:
        return {}
    body = req.body.strip() or b"{}"
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SerializationError(f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise SerializationError("Request body must be a JSON object")
    parsed = from_json(shape, doc, "", _serialization)
    assert isinstance(parsed, dict)
    return parsed


def serialize_response(
    service: ServiceModel, op: OperationModel, result: dict[str, Any] | None
) -> Response:
    shape = op.output_shape
    doc = to_json(shape, result or {}) if shape is not None else {}
    body = json.dumps(doc, separators=(",", ":")).encode()
    return Response(200, body, [("Content-Type", content_type(service))])
