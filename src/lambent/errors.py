"""The one error taxonomy: what went wrong, in the domain's terms, with no HTTP in it.

Domain code raises these. Each carries AWS's error code verbatim (so no mapping has to
guess), the message AWS words, and typed details (a throttle's reason, an S3 key). A small
set of kinds says what happened: the request is invalid, something is not found, it
conflicts with the current state, it is too large, a resource is not ready, the caller is
throttled or denied, or the service failed. Only `api/errors.py` turns an error into a wire
answer: the HTTP status of each kind, headers such as Retry-After, and each protocol's shape
(`x-amzn-ErrorType` + JSON for Lambda and Logs, XML `<ErrorResponse>` for IAM and STS, S3's
`<Error>`).
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An error a client is meant to see: AWS's code and message, and extra members of
    AWS's error shape (`fields`: Reason, BucketName, Key, ...)."""

    code: str = "ServiceException"
    # Refused by the checks AWS runs in front of the service (its request validation), not
    # by the service itself: such answers name no fault (Lambda's `Type`).
    front_door: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, Any] | None = None,
        front_door: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if front_door is not None:
            self.front_door = front_door
        self.fields: dict[str, Any] = dict(fields or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.message!r})"


class ClientError(ServiceError):
    """The caller's fault (AWS's `Type: User` / `Sender`): retrying the same request fails."""


# The kinds. Every error below is one of them; the API layer maps each kind to a status.
class InvalidInputError(ClientError):
    """The request is malformed or breaks a rule."""


class NotFoundError(ClientError):
    """What the request names does not exist (or is not visible to the caller)."""


class ConflictError(ClientError):
    """The request conflicts with the resource's current state or revision."""


class TooLargeError(ClientError):
    """The request or its payload is over a size limit."""


class ThrottledError(ClientError):
    """Too many requests or too little concurrency; `reason` is AWS's `Reason` member and
    `retry_after_s` how long the caller should wait, when the service says."""

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        retry_after_s: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code, fields={"Reason": reason})
        self.reason = reason
        self.retry_after_s = retry_after_s


class DeniedError(ClientError):
    """The caller is not authenticated, or not allowed to do this."""


class NotReadyError(ServiceError):
    """A resource the request needs cannot serve it (yet): the service's side."""


class InternalFailure(ServiceError):
    code = "ServiceException"


class ValidationError(InvalidInputError):
    """A request that breaks the service model's constraints (AWS's ValidationException)."""

    code = "ValidationException"
    front_door = True


class InvalidParameterValue(InvalidInputError):
    code = "InvalidParameterValueException"


class InvalidRequestContent(InvalidInputError):
    code = "InvalidRequestContentException"


class ResourceNotFound(NotFoundError):
    code = "ResourceNotFoundException"


class ResourceConflict(ConflictError):
    code = "ResourceConflictException"


class ResourceInUse(ConflictError):
    code = "ResourceInUseException"


class PreconditionFailed(ConflictError):
    """The caller's RevisionId is stale."""

    code = "PreconditionFailedException"


class RequestTooLarge(TooLargeError):
    code = "RequestTooLargeException"


class CodeStorageExceeded(InvalidInputError):
    code = "CodeStorageExceededException"


class PolicyLengthExceeded(InvalidInputError):
    code = "PolicyLengthExceededException"


class ProvisionedConcurrencyNotFound(NotFoundError):
    code = "ProvisionedConcurrencyConfigNotFoundException"


class TooManyRequests(ThrottledError):
    """A throttle: AWS's `Reason` (ConcurrentInvocationLimitExceeded, ...) in `reason`."""

    code = "TooManyRequestsException"


class RecursiveInvocation(InvalidInputError):
    """A chain of invocations looped through a function whose recursion config says
    Terminate: the invocation was stopped."""

    code = "RecursiveInvocationException"


class CodeSigningConfigNotFound(NotFoundError):
    code = "CodeSigningConfigNotFoundException"


class CodeVerificationFailed(InvalidInputError):
    """The package is unsigned, or not signed by a publisher the function's code signing
    config allows, and the config says Enforce."""

    code = "CodeVerificationFailedException"


class InvalidCodeSignature(InvalidInputError):
    """The package is not what was signed: refused whatever the config's policy."""

    code = "InvalidCodeSignatureException"


class InvalidRuntime(NotReadyError):
    """The function's runtime cannot start on this host (e.g. no interpreter for it)."""

    code = "InvalidRuntimeException"


class ResourceNotReady(NotReadyError):
    code = "ResourceNotReadyException"


class UnsupportedMediaType(InvalidInputError):
    code = "UnsupportedMediaTypeException"


class NotImplementedOperation(ClientError):
    """A modelled operation Lambent does not implement yet: named, never an HTML 404."""

    code = "NotImplementedException"

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(
            f"The operation {operation} of {service} is not implemented by Lambent yet.",
        )
        self.operation = operation


class UnknownOperation(NotFoundError):
    """No modelled operation matches the request."""

    code = "UnknownOperationException"


class SerializationError(InvalidInputError):
    code = "SerializationException"


class AccessDenied(DeniedError):
    code = "AccessDeniedException"


class InvalidSignature(DeniedError):
    code = "InvalidSignatureException"


class UnrecognizedClient(DeniedError):
    code = "UnrecognizedClientException"


class MissingAuthentication(DeniedError):
    code = "MissingAuthenticationTokenException"


class ExpiredToken(DeniedError):
    code = "ExpiredTokenException"


# IAM/STS codes (query protocol). Same taxonomy, their own names.
class IamNoSuchEntity(NotFoundError):
    code = "NoSuchEntity"


class IamEntityAlreadyExists(ConflictError):
    code = "EntityAlreadyExists"


class IamMalformedPolicy(InvalidInputError):
    code = "MalformedPolicyDocument"


class IamLimitExceeded(ConflictError):
    """A quota (keys per user, policies per role) would be exceeded."""

    code = "LimitExceeded"


class IamDeleteConflict(ConflictError):
    code = "DeleteConflict"


class IamInvalidInput(InvalidInputError):
    code = "InvalidInput"


# S3 codes (rest-xml). `fields` become extra elements of S3's <Error> (BucketName, Key, ...).
class S3NoSuchBucket(NotFoundError):
    code = "NoSuchBucket"

    def __init__(self, bucket: str) -> None:
        super().__init__("The specified bucket does not exist", fields={"BucketName": bucket})


class S3NoSuchKey(NotFoundError):
    """`delete_marker` names the delete marker that hides the key, if one does."""

    code = "NoSuchKey"

    def __init__(self, key: str, *, delete_marker: str | None = None) -> None:
        super().__init__("The specified key does not exist.", fields={"Key": key})
        self.delete_marker = delete_marker


class S3NoSuchVersion(NotFoundError):
    code = "NoSuchVersion"

    def __init__(self, key: str, version_id: str) -> None:
        super().__init__(
            "The specified version does not exist.",
            fields={"Key": key, "VersionId": version_id},
        )


class S3BucketAlreadyExists(ConflictError):
    code = "BucketAlreadyExists"

    def __init__(self, bucket: str) -> None:
        super().__init__(
            "The requested bucket name is not available. The bucket namespace is shared by "
            "all users of the system. Please select a different name and try again.",
            fields={"BucketName": bucket},
        )


class S3BucketAlreadyOwnedByYou(ConflictError):
    code = "BucketAlreadyOwnedByYou"

    def __init__(self, bucket: str) -> None:
        super().__init__(
            "Your previous request to create the named bucket succeeded and you already own it.",
            fields={"BucketName": bucket},
        )


class S3BucketNotEmpty(ConflictError):
    code = "BucketNotEmpty"

    def __init__(self, bucket: str) -> None:
        super().__init__(
            "The bucket you tried to delete is not empty", fields={"BucketName": bucket}
        )


class S3InvalidBucketName(InvalidInputError):
    code = "InvalidBucketName"

    def __init__(self, bucket: str) -> None:
        super().__init__("The specified bucket is not valid.", fields={"BucketName": bucket})


class S3AccessDenied(DeniedError):
    code = "AccessDenied"

    def __init__(self) -> None:
        super().__init__("Access Denied")


class S3InvalidArgument(InvalidInputError):
    code = "InvalidArgument"


class S3InvalidRequest(InvalidInputError):
    code = "InvalidRequest"


class S3MalformedXML(InvalidInputError):
    code = "MalformedXML"

    def __init__(self) -> None:
        super().__init__(
            "The XML you provided was not well-formed or did not validate against our "
            "published schema"
        )


class S3BadDigest(InvalidInputError):
    code = "BadDigest"


class S3InvalidDigest(InvalidInputError):
    code = "InvalidDigest"


class S3ContentSha256Mismatch(InvalidInputError):
    code = "XAmzContentSHA256Mismatch"


class S3IncompleteBody(InvalidInputError):
    code = "IncompleteBody"


class S3InvalidRange(InvalidInputError):
    """The requested range is outside the object."""

    code = "InvalidRange"


class S3KeyTooLong(InvalidInputError):
    code = "KeyTooLongError"


class S3LocationConstraint(InvalidInputError):
    """IllegalLocationConstraintException or InvalidLocationConstraint, by `code`."""

    code = "IllegalLocationConstraintException"


class S3MethodNotAllowed(InvalidInputError):
    """`delete_marker`: the version asked for is this delete marker (GET of a marker)."""

    code = "MethodNotAllowed"

    def __init__(self, message: str, *, delete_marker: str | None = None) -> None:
        super().__init__(message)
        self.delete_marker = delete_marker


class S3NotFound(NotFoundError):
    """A bucket sub-resource that is not configured (NoSuchTagSet, ...), named by `code`."""

    code = "NoSuchTagSet"


class S3PreconditionFailed(ConflictError):
    """An If-Match / If-Unmodified-Since condition does not hold."""

    code = "PreconditionFailed"


class S3NotModified(ClientError):
    """An If-None-Match / If-Modified-Since condition says the caller's copy (`etag`) is
    current (not an error for the caller: the API answers it without a body)."""

    code = "NotModified"

    def __init__(self, message: str, *, etag: str) -> None:
        super().__init__(message)
        self.etag = etag


class S3EntityTooLarge(TooLargeError):
    code = "EntityTooLarge"


class S3PermanentRedirect(ClientError):
    """A bucket addressed through another region's endpoint."""

    code = "PermanentRedirect"


class S3NoSuchUpload(NotFoundError):
    code = "NoSuchUpload"

    def __init__(self, upload_id: str) -> None:
        super().__init__(
            "The specified upload does not exist. The upload ID may be invalid, or the upload "
            "may have been aborted or completed.",
            fields={"UploadId": upload_id},
        )


class S3InvalidPart(InvalidInputError):
    """InvalidPart, InvalidPartOrder or EntityTooSmall, by `code`."""

    code = "InvalidPart"
