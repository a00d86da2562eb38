"""SNS's errors in the domain's taxonomy: AWS's query code and message, no HTTP."""

from __future__ import annotations

from lambent.errors import DeniedError, InvalidInputError, NotFoundError


class InvalidParameter(InvalidInputError):
    code = "InvalidParameter"


class TopicNotFound(NotFoundError):
    code = "NotFound"

    def __init__(self, message: str = "Topic does not exist") -> None:
        super().__init__(message)


class SubscriptionNotFound(NotFoundError):
    code = "NotFound"

    def __init__(self, message: str = "Subscription does not exist") -> None:
        super().__init__(message)


class AuthorizationError(DeniedError):
    code = "AuthorizationError"


def invalid(reason: str) -> InvalidParameter:
    """AWS words most of SNS's refusals as `Invalid parameter: <reason>`."""
    return InvalidParameter(f"Invalid parameter: {reason}")
