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
