"""Domain errors on the wire: each error's status, code and shape in every protocol.

The expectations are written from AWS's documentation, not from `api/errors.py`: the Lambda
API reference's Errors sections (and its Common Errors), the IAM and STS API references'
error lists and Common Errors, the CloudWatch Logs API reference (a JSON protocol answers
every client error 400), and the Amazon S3 REST API's "Error responses" list. Every error
class the domain defines must appear here, so a new one cannot slip through unmapped."""

from __future__ import annotations

import inspect
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from lambent import errors as e
from lambent.api.errors import error_response
from lambent.api.model import Models

MODELS = Models.load()
KINDS = {
    e.ServiceError,
    e.ClientError,
    e.InvalidInputError,
    e.NotFoundError,
    e.ConflictError,
    e.TooLargeError,
    e.ThrottledError,
    e.DeniedError,
    e.NotReadyError,
}

# (service the error is answered by, the error) -> (code on the wire, HTTP status)
LAMBDA: list[tuple[e.ServiceError, str, int]] = [
    (e.ValidationError("bad"), "ValidationException", 400),
    (e.InvalidParameterValue("bad"), "InvalidParameterValueException", 400),
    (e.InvalidRequestContent("bad"), "InvalidRequestContentException", 400),
    (e.ResourceNotFound("gone"), "ResourceNotFoundException", 404),
    (e.ResourceConflict("busy"), "ResourceConflictException", 409),
    (e.ResourceInUse("in use"), "ResourceInUseException", 400),
    (e.PreconditionFailed("stale"), "PreconditionFailedException", 412),
    (e.RequestTooLarge("big"), "RequestTooLargeException", 413),
    (e.RecursiveInvocation("loop"), "RecursiveInvocationException", 400),
    (e.CodeSigningConfigNotFound("csc"), "CodeSigningConfigNotFoundException", 404),
    (e.CodeVerificationFailed("unsigned"), "CodeVerificationFailedException", 400),
    (e.InvalidCodeSignature("tampered"), "InvalidCodeSignatureException", 400),
    (
        e.RequestTooLarge("big", code="RequestEntityTooLargeException"),
        "RequestEntityTooLargeException",
        413,
    ),
    (e.CodeStorageExceeded("full"), "CodeStorageExceededException", 400),
    (e.PolicyLengthExceeded("long"), "PolicyLengthExceededException", 400),
    (
        e.ProvisionedConcurrencyNotFound("none"),
        "ProvisionedConcurrencyConfigNotFoundException",
        404,
    ),
    (e.TooManyRequests("Rate Exceeded.", reason="X"), "TooManyRequestsException", 429),
    (e.InvalidRuntime("no python"), "InvalidRuntimeException", 502),
    (e.ResourceNotReady("not yet"), "ResourceNotReadyException", 502),
    (e.UnsupportedMediaType("xml?"), "UnsupportedMediaTypeException", 415),
    (e.NotImplementedOperation("lambda", "GetDurableExecution"), "NotImplementedException", 501),
    (e.UnknownOperation("what"), "UnknownOperationException", 404),
    (e.SerializationError("json?"), "SerializationException", 400),
    (e.AccessDenied("no"), "AccessDeniedException", 403),
    (e.InvalidSignature("sig"), "InvalidSignatureException", 403),
    (e.UnrecognizedClient("who"), "UnrecognizedClientException", 403),
    (e.MissingAuthentication("none"), "MissingAuthenticationTokenException", 403),
    (e.ExpiredToken("old"), "ExpiredTokenException", 403),
    (e.InternalFailure("oops"), "ServiceException", 500),
]
IAM: list[tuple[e.ServiceError, str, int]] = [
    (e.IamNoSuchEntity("gone"), "NoSuchEntity", 404),
    (e.IamEntityAlreadyExists("dup"), "EntityAlreadyExists", 409),
    (e.IamMalformedPolicy("bad"), "MalformedPolicyDocument", 400),
    (e.IamLimitExceeded("quota"), "LimitExceeded", 409),
    (e.IamDeleteConflict("attached"), "DeleteConflict", 409),
    (e.IamInvalidInput("bad"), "InvalidInput", 400),
    # The same conditions, raised in shared code, carry IAM's names on IAM's wire.
    (e.ValidationError("bad"), "ValidationError", 400),
    (e.ResourceNotFound("gone"), "NoSuchEntity", 404),
    (e.InvalidSignature("sig"), "SignatureDoesNotMatch", 403),
    (e.UnrecognizedClient("who"), "InvalidClientTokenId", 403),
    (e.AccessDenied("no"), "AccessDenied", 403),
    (e.ExpiredToken("old"), "ExpiredToken", 403),
]
STS: list[tuple[e.ServiceError, str, int]] = [
    (e.AccessDenied("no"), "AccessDenied", 403),
    (e.ValidationError("too long"), "ValidationError", 400),
    (e.UnrecognizedClient("who"), "InvalidClientTokenId", 403),
]
LOGS: list[tuple[e.ServiceError, str, int]] = [
    (e.ClientError("no group", code="ResourceNotFoundException"), "ResourceNotFoundException", 400),
    (e.InvalidParameterValue("bad"), "InvalidParameterException", 400),
    (e.InvalidRequestContent("json?"), "SerializationException", 400),
]
S3: list[tuple[e.ServiceError, str, int]] = [
    (e.S3NoSuchBucket("b"), "NoSuchBucket", 404),
    (e.S3NoSuchKey("k"), "NoSuchKey", 404),
    (e.S3NoSuchVersion("k", "v"), "NoSuchVersion", 404),
    (e.S3BucketAlreadyExists("b"), "BucketAlreadyExists", 409),
    (e.S3BucketAlreadyOwnedByYou("b"), "BucketAlreadyOwnedByYou", 409),
    (e.S3BucketNotEmpty("b"), "BucketNotEmpty", 409),
    (e.S3InvalidBucketName("B"), "InvalidBucketName", 400),
    (e.S3AccessDenied(), "AccessDenied", 403),
    (e.S3InvalidArgument("arg"), "InvalidArgument", 400),
    (e.S3InvalidRequest("req"), "InvalidRequest", 400),
    (e.S3MalformedXML(), "MalformedXML", 400),
    (e.S3BadDigest("md5"), "BadDigest", 400),
    (e.S3InvalidDigest("md5"), "InvalidDigest", 400),
    (e.S3ContentSha256Mismatch("sha"), "XAmzContentSHA256Mismatch", 400),
    (e.S3IncompleteBody("short"), "IncompleteBody", 400),
    (e.S3InvalidRange("range"), "InvalidRange", 416),
    (e.S3KeyTooLong("long"), "KeyTooLongError", 400),
    (e.S3LocationConstraint("where"), "IllegalLocationConstraintException", 400),
    (e.S3MethodNotAllowed("marker"), "MethodNotAllowed", 405),
    (e.S3NotFound("tags"), "NoSuchTagSet", 404),
    (e.S3PreconditionFailed("if"), "PreconditionFailed", 412),
    (e.S3NotModified("same", etag='"e"'), "NotModified", 304),
    (e.S3EntityTooLarge("5 GB"), "EntityTooLarge", 400),
    (e.S3PermanentRedirect("other region"), "PermanentRedirect", 301),
    (e.S3NoSuchUpload("u"), "NoSuchUpload", 404),
    (e.S3InvalidPart("part"), "InvalidPart", 400),
    (e.S3InvalidPart("order", code="InvalidPartOrder"), "InvalidPartOrder", 400),
    # Shared conditions under S3's names.
    (e.InvalidSignature("sig"), "SignatureDoesNotMatch", 403),
    (e.UnrecognizedClient("who"), "InvalidAccessKeyId", 403),
    (e.NotImplementedOperation("s3", "GetBucketAcl"), "NotImplemented", 501),
    (e.InternalFailure("oops"), "InternalError", 500),
]
CASES = [
    pytest.param(service, err, code, status, id=f"{service}-{type(err).__name__}-{code}")
    for service, table in (
        ("lambda", LAMBDA),
        ("iam", IAM),
        ("sts", STS),
        ("logs", LOGS),
        ("s3", S3),
    )
    for err, code, status in table
]


def answer(service: str, err: e.ServiceError) -> tuple[int, dict[str, str], bytes]:
    resp = error_response(service, MODELS.services[service], err, "req-1")
    return resp.status, {k.lower(): v for k, v in resp.headers}, resp.body


def test_every_domain_error_is_expected_somewhere() -> None:
    defined = {
        cls
        for _, cls in inspect.getmembers(e, inspect.isclass)
        if issubclass(cls, e.ServiceError) and cls.__module__ == e.__name__
    }
    covered = {type(err) for _, table in (("", LAMBDA), ("", IAM), ("", S3)) for err, _, _ in table}
    assert defined - KINDS - covered == set()


@pytest.mark.parametrize(("service", "err", "code", "status"), CASES)
def test_status_and_code(service: str, err: e.ServiceError, code: str, status: int) -> None:
    got_status, headers, body = answer(service, err)
    assert got_status == status
    if service == "s3":
        if status != 304:
            assert ET.fromstring(body).findtext("Code") == code
    elif service in ("iam", "sts"):
        ns = {"a": MODELS.services[service].metadata["xmlNamespace"]}
        assert ET.fromstring(body).findtext("a:Error/a:Code", namespaces=ns) == code
    else:
        assert headers["x-amzn-errortype"] == code


def test_lambda_shape_is_the_modelled_error_structure() -> None:
    """rest-json: x-amzn-ErrorType, and the error shape's members: Type User/Service,
    the message (as the model spells it), and Reason for a throttle."""
    status, headers, body = answer(
        "lambda",
        e.TooManyRequests(
            "Rate Exceeded.", reason="ReservedFunctionConcurrentInvocationLimitExceeded"
        ),
    )
    doc: dict[str, Any] = json.loads(body)
    assert status == 429
    assert headers["content-type"] == "application/json"
    assert doc["Type"] == "User"
    assert doc["message"] == "Rate Exceeded."
    assert doc["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    _, _, body = answer("lambda", e.InternalFailure("An internal error occurred."))
    assert json.loads(body)["Type"] == "Service"
    _, _, body = answer("lambda", e.ResourceNotFound("Function not found: arn"))
    assert json.loads(body) == {"Type": "User", "Message": "Function not found: arn"}


def test_errors_of_awss_request_checks_carry_no_type() -> None:
    """AWS's ValidationException, and the errors its front door raises, name no fault; an
    error with no message has none in the body."""
    _, headers, body = answer("lambda", e.ValidationError("1 validation error detected: x"))
    assert headers["x-amzn-errortype"] == "ValidationException"
    assert json.loads(body) == {"message": "1 validation error detected: x"}
    _, _, body = answer("lambda", e.InvalidParameterValue("no", front_door=True))
    assert json.loads(body) == {"message": "no"}
    status, headers, body = answer("lambda", e.AccessDenied("", front_door=True))
    assert (status, headers["x-amzn-errortype"], json.loads(body)) == (
        403,
        "AccessDeniedException",
        {},
    )
    _, _, body = answer("lambda", e.InvalidParameterValue("typed"))
    assert json.loads(body) == {"Type": "User", "message": "typed"}


def test_a_throttle_that_says_when_carries_retry_after() -> None:
    _, headers, _ = answer("lambda", e.TooManyRequests("slow down", reason="X", retry_after_s=3))
    assert headers["retry-after"] == "3"
    _, headers, _ = answer("lambda", e.TooManyRequests("slow down", reason="X"))
    assert "retry-after" not in headers


def test_logs_shape_is_json_with_type() -> None:
    status, headers, body = answer(
        "logs",
        e.ClientError("The specified log group does not exist.", code="ResourceNotFoundException"),
    )
    assert status == 400
    assert headers["content-type"].startswith("application/x-amz-json-")
    assert json.loads(body) == {
        "__type": "ResourceNotFoundException",
        "message": "The specified log group does not exist.",
    }


def test_query_shape_is_an_error_response_with_sender_or_receiver() -> None:
    ns = {"a": MODELS.services["iam"].metadata["xmlNamespace"]}
    _, _, body = answer("iam", e.IamNoSuchEntity("The role with name x cannot be found."))
    root = ET.fromstring(body)
    assert root.tag == f"{{{ns['a']}}}ErrorResponse"
    assert root.findtext("a:Error/a:Type", namespaces=ns) == "Sender"
    assert (
        root.findtext("a:Error/a:Message", namespaces=ns) == "The role with name x cannot be found."
    )
    assert root.findtext("a:RequestId", namespaces=ns) == "req-1"
    _, _, body = answer("iam", e.InternalFailure("oops"))
    assert ET.fromstring(body).findtext("a:Error/a:Type", namespaces=ns) == "Receiver"


def test_s3_shape_carries_the_errors_own_elements() -> None:
    status, headers, body = answer("s3", e.S3NoSuchKey("photos/cat.jpg"))
    root = ET.fromstring(body)
    assert (status, root.tag) == (404, "Error")
    assert root.findtext("Key") == "photos/cat.jpg"
    assert root.findtext("RequestId") == "req-1"
    assert headers["x-amz-request-id"] == "req-1"
    assert "x-amz-delete-marker" not in headers


def test_s3_delete_markers_show_in_headers() -> None:
    """GET of a key whose current version is a delete marker: 404 NoSuchKey with
    x-amz-delete-marker and the marker's version id; GET of the marker itself: 405."""
    _, headers, _ = answer("s3", e.S3NoSuchKey("k", delete_marker="v9"))
    assert (headers["x-amz-delete-marker"], headers["x-amz-version-id"]) == ("true", "v9")
    status, headers, _ = answer("s3", e.S3MethodNotAllowed("not on a marker", delete_marker="v9"))
    assert status == 405
    assert (headers["x-amz-delete-marker"], headers["x-amz-version-id"]) == ("true", "v9")


def test_s3_not_modified_has_no_body_and_the_etag() -> None:
    status, headers, body = answer("s3", e.S3NotModified("Not Modified", etag='"abc"'))
    assert (status, body, headers["etag"]) == (304, b"", '"abc"')
