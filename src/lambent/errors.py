"""The one error taxonomy.

Domain code raises these; `api/errors.py` maps them to each protocol's wire shape
(`x-amzn-ErrorType` + JSON for Lambda and Logs, XML `<ErrorResponse>` for IAM and STS).
The `code` is AWS's error code verbatim, so the mapping never has to guess.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An error a client is meant to see, shaped as AWS shapes it."""

    code: str = "ServiceException"
    status: int = 500
    sender_fault: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields: dict[str, Any] = dict(fields or {})
        self.headers: dict[str, str] = dict(headers or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.status}, {self.message!r})"


class ClientError(ServiceError):
    status = 400
    sender_fault = True


class ValidationError(ClientError):
    """A request that breaks the service model's constraints (AWS's ValidationException)."""

    code = "ValidationException"


class InvalidParameterValue(ClientError):
    code = "InvalidParameterValueException"


class InvalidRequestContent(ClientError):
    code = "InvalidRequestContentException"


class ResourceNotFound(ClientError):
    code = "ResourceNotFoundException"
    status = 404


class ResourceConflict(ClientError):
    code = "ResourceConflictException"
    status = 409


class ResourceInUse(ClientError):
    code = "ResourceInUseException"


class PreconditionFailed(ClientError):
    code = "PreconditionFailedException"
    status = 412


class RequestTooLarge(ClientError):
    code = "RequestTooLargeException"
    status = 413


class CodeStorageExceeded(ClientError):
    code = "CodeStorageExceededException"


class PolicyLengthExceeded(ClientError):
    code = "PolicyLengthExceededException"


class ProvisionedConcurrencyNotFound(ClientError):
    code = "ProvisionedConcurrencyConfigNotFoundException"
    status = 404


class TooManyRequests(ClientError):
    """A throttle. `reason` is AWS's `Reason` member (ConcurrentInvocationLimitExceeded, ...)."""

    code = "TooManyRequestsException"
    status = 429

    def __init__(self, message: str, *, reason: str, retry_after_s: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
        super().__init__(message, fields={"Reason": reason}, headers=headers)
        self.reason = reason


class InvalidRuntime(ServiceError):
    """The function's runtime cannot start on this host (e.g. no interpreter for it)."""

    code = "InvalidRuntimeException"
    status = 502


class ResourceNotReady(ServiceError):
    code = "ResourceNotReadyException"
    status = 502


class UnsupportedMediaType(ClientError):
    code = "UnsupportedMediaTypeException"
    status = 415


class NotImplementedOperation(ClientError):
    """A modelled operation Lambent does not implement yet: named, never an HTML 404."""

    code = "NotImplementedException"
    status = 501

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(
            f"The operation {operation} of {service} is not implemented by Lambent yet.",
        )
        self.operation = operation


class UnknownOperation(ClientError):
    code = "UnknownOperationException"
    status = 404


class SerializationError(ClientError):
    code = "SerializationException"


class AccessDenied(ClientError):
    code = "AccessDeniedException"
    status = 403


class InvalidSignature(ClientError):
    code = "InvalidSignatureException"
    status = 403


class UnrecognizedClient(ClientError):
    code = "UnrecognizedClientException"
    status = 403


class MissingAuthentication(ClientError):
    code = "MissingAuthenticationTokenException"
    status = 403


class ExpiredToken(ClientError):
    code = "ExpiredTokenException"
    status = 403


class InternalFailure(ServiceError):
    code = "ServiceException"
    status = 500


# IAM/STS codes (query protocol). Same taxonomy, their own names.
class IamNoSuchEntity(ClientError):
    code = "NoSuchEntity"
    status = 404


class IamEntityAlreadyExists(ClientError):
    code = "EntityAlreadyExists"
    status = 409


class IamMalformedPolicy(ClientError):
    code = "MalformedPolicyDocument"


class IamLimitExceeded(ClientError):
    code = "LimitExceeded"
    status = 409


class IamDeleteConflict(ClientError):
    code = "DeleteConflict"
    status = 409


class IamInvalidInput(ClientError):
    code = "InvalidInput"


# S3 codes (rest-xml). `fields` become extra elements of S3's <Error> (BucketName, Key, ...).
class S3NoSuchBucket(ClientError):
    code = "NoSuchBucket"
    status = 404

    def __init__(self, bucket: str) -> None:
        super().__init__("The specified bucket does not exist", fields={"BucketName": bucket})


class S3NoSuchKey(ClientError):
    code = "NoSuchKey"
    status = 404

    def __init__(self, key: str) -> None:
        super().__init__("The specified key does not exist.", fields={"Key": key})


class S3NoSuchVersion(ClientError):
    code = "NoSuchVersion"
    status = 404

    def __init__(self, key: str, version_id: str) -> None:
        super().__init__(
            "The specified version does not exist.",
            fields={"Key": key, "VersionId": version_id},
        )


class S3BucketAlreadyExists(ClientError):
    code = "BucketAlreadyExists"
    status = 409

    def __init__(self, bucket: str) -> None:
        super().__init__(
            "The requested bucket name is not available. The bucket namespace is shared by "
            "all users of the system. Please select a different name and try again.",
            fields={"BucketName": bucket},
        )


class S3BucketAlreadyOwnedByYou(ClientError):
    code = "BucketAlreadyOwnedByYou"
    status = 409

    def __init__(self, bucket: str) -> None:
        super().__init__(
            "Your previous request to create the named bucket succeeded and you already own it.",
            fields={"BucketName": bucket},
        )


class S3BucketNotEmpty(ClientError):
    code = "BucketNotEmpty"
    status = 409

    def __init__(self, bucket: str) -> None:
        super().__init__(
            "The bucket you tried to delete is not empty", fields={"BucketName": bucket}
        )


class S3InvalidBucketName(ClientError):
    code = "InvalidBucketName"

    def __init__(self, bucket: str) -> None:
        super().__init__("The specified bucket is not valid.", fields={"BucketName": bucket})


class S3AccessDenied(ClientError):
    code = "AccessDenied"
    status = 403

    def __init__(self) -> None:
        super().__init__("Access Denied")


class S3InvalidArgument(ClientError):
    code = "InvalidArgument"


class S3InvalidRequest(ClientError):
    code = "InvalidRequest"


class S3MalformedXML(ClientError):
    code = "MalformedXML"

    def __init__(self) -> None:
        super().__init__(
            "The XML you provided was not well-formed or did not validate against our "
            "published schema"
        )


class S3BadDigest(ClientError):
    code = "BadDigest"


class S3InvalidDigest(ClientError):
    code = "InvalidDigest"


class S3ContentSha256Mismatch(ClientError):
    code = "XAmzContentSHA256Mismatch"


class S3IncompleteBody(ClientError):
    code = "IncompleteBody"


class S3InvalidRange(ClientError):
    code = "InvalidRange"
    status = 416


class S3KeyTooLong(ClientError):
    code = "KeyTooLongError"


class S3LocationConstraint(ClientError):
    """IllegalLocationConstraintException or InvalidLocationConstraint, by `code`."""

    code = "IllegalLocationConstraintException"


class S3MethodNotAllowed(ClientError):
    code = "MethodNotAllowed"
    status = 405


class S3NotFound(ClientError):
    """A bucket sub-resource that is not configured (NoSuchTagSet, ...), named by `code`."""

    code = "NoSuchTagSet"
    status = 404


class S3PreconditionFailed(ClientError):
    code = "PreconditionFailed"
    status = 412


class S3NotModified(ClientError):
    code = "NotModified"
    status = 304


class S3EntityTooLarge(ClientError):
    code = "EntityTooLarge"


class S3PermanentRedirect(ClientError):
    """A bucket addressed through another region's endpoint."""

    code = "PermanentRedirect"
    status = 301


class S3NoSuchUpload(ClientError):
    code = "NoSuchUpload"
    status = 404

    def __init__(self, upload_id: str) -> None:
        super().__init__(
            "The specified upload does not exist. The upload ID may be invalid, or the upload "
            "may have been aborted or completed.",
            fields={"UploadId": upload_id},
        )


class S3InvalidPart(ClientError):
    """InvalidPart, InvalidPartOrder or EntityTooSmall, by `code`."""

    code = "InvalidPart"
