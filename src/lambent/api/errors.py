"""Domain errors to each protocol's wire answer: the only place that knows HTTP for them.

The domain raises kinds of error (`lambent.errors`) with AWS's code and typed details;
here each becomes a `WireError`: the code the service uses (IAM says NoSuchEntity where
Lambda says ResourceNotFoundException), the HTTP status AWS answers it with, headers it
carries (Retry-After, S3's delete-marker headers), and whose fault it is. Then the shape:
rest-json (Lambda): `x-amzn-ErrorType` header plus the error shape's members as JSON,
e.g. `{"Type":"User","Message":"Function not found: ..."}` (member casing as modelled).
json (Logs): `{"__type": code, "message": ...}`. query (IAM, STS): XML `<ErrorResponse>`.
rest-xml (S3): S3's bare `<Error><Code/><Message/>...<RequestId/></Error>`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from botocore.model import NoShapeFoundError, ServiceModel, StructureShape

from lambent import errors as e
from lambent.api.protocols import query, restxml
from lambent.api.protocols.wire import WireError
from lambent.errors import ServiceError
from lambent.events import errors as events
from lambent.http.messages import Response
from lambent.kinesis import errors as kinesis
from lambent.secrets import errors as secrets
from lambent.sqs import errors as sqs

# The HTTP status of each kind of error, and of the errors AWS answers otherwise than
# their kind (most specific class wins). From the API references' Errors sections.
_STATUS: dict[type[ServiceError], int] = {
    ServiceError: 500,
    e.ClientError: 400,
    e.InvalidInputError: 400,
    e.NotFoundError: 404,
    e.ConflictError: 409,
    e.TooLargeError: 413,
    e.ThrottledError: 429,
    e.DeniedError: 403,
    e.NotReadyError: 502,
    e.PreconditionFailed: 412,
    e.ResourceInUse: 400,
    e.UnsupportedMediaType: 415,
    e.NotImplementedOperation: 501,
    e.S3EntityTooLarge: 400,
    e.S3InvalidRange: 416,
    e.S3MethodNotAllowed: 405,
    e.S3PreconditionFailed: 412,
    e.S3NotModified: 304,
    e.S3PermanentRedirect: 301,
    # SQS answers 400 for its own conditions, whatever their kind.
    sqs.QueueDoesNotExist: 400,
    sqs.QueueNameExists: 400,
    sqs.QueueDeletedRecently: 400,
    sqs.PurgeQueueInProgress: 403,
    sqs.OverLimit: 403,
    # EventBridge answers 400 for every client error.
    events.EventsNotFound: 400,
    events.EventsAlreadyExists: 400,
    # Kinesis answers 400 for all of its own errors.
    kinesis.StreamNotFound: 400,
    kinesis.StreamInUse: 400,
    # Secrets Manager answers 400 for all of its own errors.
    secrets.SecretNotFound: 400,
    secrets.SecretExists: 400,
}

# SQS speaks JSON to current SDKs but stays compatible with its query protocol: each error
# also names its query code (`x-amzn-query-error: CODE;Sender`), which botocore reports as
# the error's Code, and which the query protocol's XML carries.
SQS_QUERY_CODES: dict[str, str] = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
    "QueueNameExists": "QueueAlreadyExists",
    "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
    "AccessDeniedException": "AccessDenied",
}

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
    "sqs": {
        "ValidationException": "InvalidParameterValue",
        "InvalidParameterValueException": "InvalidParameterValue",
        "UnknownOperationException": "InvalidAction",
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


def query_code(code: str) -> str:
    return SQS_QUERY_CODES.get(code, code)


def status_of(err: ServiceError) -> int:
    for cls in type(err).__mro__:
        status = _STATUS.get(cls)
        if status is not None:
            return status
    return 500


def headers_of(err: ServiceError) -> list[tuple[str, str]]:
    if isinstance(err, e.ThrottledError) and err.retry_after_s is not None:
        return [("Retry-After", str(err.retry_after_s))]
    if isinstance(err, e.S3NoSuchKey | e.S3MethodNotAllowed) and err.delete_marker:
        return [("x-amz-delete-marker", "true"), ("x-amz-version-id", err.delete_marker)]
    if isinstance(err, e.S3NotModified):
        return [("ETag", err.etag)]
    return []


def wire_error(service_name: str, err: ServiceError) -> WireError:
    return WireError(
        code=wire_code(service_name, err.code),
        status=status_of(err),
        headers=headers_of(err),
        sender_fault=isinstance(err, e.ClientError),
    )


def error_response(
    service_name: str, service: ServiceModel | None, err: ServiceError, request_id: str
) -> Response:
    wire = wire_error(service_name, err)
    protocol = service.metadata["protocol"] if service is not None else "rest-json"
    if protocol == "query" and service_name == "sqs":  # SQS's query protocol: its codes
        wire = dataclasses.replace(wire, code=query_code(wire.code))
    if protocol == "query":
        namespace = service.metadata.get("xmlNamespace", "") if service else ""
        return query.serialize_error(wire, err.message, namespace, request_id)
    if protocol == "rest-xml":
        return restxml.serialize_error(wire, err.message, err.fields, request_id)
    headers = [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", wire.code)]
    headers.extend(wire.headers)
    if service is not None and service.is_query_compatible:
        kind = "Sender" if wire.sender_fault else "Receiver"
        headers.append(("x-amzn-query-error", f"{query_code(wire.code)};{kind}"))
    if protocol == "json":
        body: dict[str, Any] = {"__type": wire.code, "message": err.message}
        body.update(err.fields)
        version = service.metadata.get("jsonVersion", "1.1") if service else "1.1"
        ctype = f"application/x-amz-json-{version}"
        headers.append(("Content-Type", ctype))
        return Response(wire.status, json.dumps(body).encode(), headers)
    headers.append(("Content-Type", "application/json"))
    body = rest_json_error_body(service, wire, err)
    return Response(wire.status, json.dumps(body).encode(), headers)


def rest_json_error_body(
    service: ServiceModel | None, wire: WireError, err: ServiceError
) -> dict[str, Any]:
    """The error shape's members. An error from AWS's front door has no `Type`, and an
    empty message is left out (AWS sends AccessDeniedException with no message at all)."""
    kind = None if err.front_door else ("User" if wire.sender_fault else "Service")
    message = err.message or None
    shape = None
    if service is not None:
        try:
            shape = service.shape_for(wire.code)
        except NoShapeFoundError:
            shape = None
    body: dict[str, Any] = {}
    if not isinstance(shape, StructureShape):
        if kind is not None:
            body["Type"] = kind
        if message is not None:
            body["message"] = message
        body.update(err.fields)
        return body
    for name, member in shape.members.items():
        if member.serialization.get("location"):
            continue
        if name == "Type":
            if kind is not None:
                body[name] = kind
        elif name.lower() == "message":
            if message is not None:
                body[name] = message
        elif name in err.fields:
            body[name] = err.fields[name]
    for key, value in err.fields.items():
        body.setdefault(key, value)
    return body
