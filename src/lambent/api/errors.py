"""Domain errors to each protocol's wire shape.

rest-json (Lambda): `x-amzn-ErrorType` header plus the error shape's members as JSON,
e.g. `{"Type":"User","Message":"Function not found: ..."}` (member casing as modelled).
json (Logs): `{"__type": code, "message": ...}`. query (IAM, STS): XML `<ErrorResponse>`.
rest-xml (S3): S3's bare `<Error><Code/><Message/>...<RequestId/></Error>`.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.model import NoShapeFoundError, ServiceModel, StructureShape

from lambent.api.protocols import query, restxml
from lambent.errors import ServiceError
from lambent.http.messages import Response

# The same condition has different names in different services.
_RENAMES: dict[str, dict[str, str]] = {
    "iam": {
        "ValidationException": "ValidationError",
        "InvalidParameterValueException": "InvalidInput",
        "ResourceNotFoundException": "NoSuchEntity",
        "InvalidSignatureException": "SignatureDoesNotMatch",
        "UnrecognizedClientException": "InvalidClientTokenId",
        "ExpiredTokenException": "ExpiredToken",
        "MalformedInput": "MalformedInput",
        "AccessDeniedException": "AccessDenied",
    },
    "sts": {
        "ValidationException": "ValidationError",
        "InvalidSignatureException": "SignatureDoesNotMatch",
        "UnrecognizedClientException": "InvalidClientTokenId",
        "ExpiredTokenException": "ExpiredToken",
        "AccessDeniedException": "AccessDenied",
    },
    "logs": {
        "InvalidParameterValueException": "InvalidParameterException",
        "InvalidRequestContentException": "SerializationException",
    },
    "s3": {
        "ValidationException": "InvalidArgument",
        "InvalidParameterValueException": "InvalidArgument",
        "InvalidRequestContentException": "MalformedXML",
        "InvalidSignatureException": "SignatureDoesNotMatch",
        "UnrecognizedClientException": "InvalidAccessKeyId",
        "MissingAuthenticationTokenException": "AccessDenied",
        "ExpiredTokenException": "ExpiredToken",
        "AccessDeniedException": "AccessDenied",
        "NotImplementedException": "NotImplemented",
        "UnknownOperationException": "MethodNotAllowed",
        "ServiceException": "InternalError",
    },
}


def wire_code(service: str, code: str) -> str:
    return _RENAMES.get(service, {}).get(code, code)


def error_response(
    service_name: str, service: ServiceModel | None, err: ServiceError, request_id: str
) -> Response:
    code = wire_code(service_name, err.code)
    protocol = service.metadata["protocol"] if service is not None else "rest-json"
    if protocol == "query":
        namespace = service.metadata.get("xmlNamespace", "") if service else ""
        renamed = ServiceError(err.message, code=code, status=err.status, headers=err.headers)
        renamed.sender_fault = err.sender_fault
        return query.serialize_error(renamed, namespace, request_id)
    if protocol == "rest-xml":
        return restxml.serialize_error(err, code, request_id)
    headers = [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", code)]
    headers.extend(err.headers.items())
    if protocol == "json":
        body: dict[str, Any] = {"__type": code, "message": err.message}
        body.update(err.fields)
        version = service.metadata.get("jsonVersion", "1.1") if service else "1.1"
        ctype = f"application/x-amz-json-{version}"
        headers.append(("Content-Type", ctype))
        return Response(err.status, json.dumps(body).encode(), headers)
    headers.append(("Content-Type", "application/json"))
    return Response(
        err.status, json.dumps(rest_json_error_body(service, code, err)).encode(), headers
    )


def rest_json_error_body(
    service: ServiceModel | None, code: str, err: ServiceError
) -> dict[str, Any]:
    kind = "User" if err.sender_fault else "Service"
    shape = None
    if service is not None:
        try:
            shape = service.shape_for(code)
        except NoShapeFoundError:
            shape = None
    if not isinstance(shape, StructureShape):
        body: dict[str, Any] = {"Type": kind, "message": err.message}
        body.update(err.fields)
        return body
    body = {}
    for name, member in shape.members.items():
        if member.serialization.get("location"):
            continue
        if name == "Type":
            body[name] = kind
        elif name.lower() == "message":
            body[name] = err.message
        elif name in err.fields:
            body[name] = err.fields[name]
    for key, value in err.fields.items():
        body.setdefault(key, value)
    return body
