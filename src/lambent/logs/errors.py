"""The CloudWatch Logs error shapes, with AWS's messages (every client error is HTTP 400)."""

from __future__ import annotations

from lambent.errors import ClientError

GROUP_MISSING = "The specified log group does not exist."
STREAM_MISSING = "The specified log stream does not exist."
GROUP_EXISTS = "The specified log group already exists"
STREAM_EXISTS = "The specified log stream already exists"


def not_found(message: str) -> ClientError:
    return ClientError(message, code="ResourceNotFoundException")


def already_exists(message: str) -> ClientError:
    return ClientError(message, code="ResourceAlreadyExistsException")


def invalid_parameter(message: str) -> ClientError:
    return ClientError(message, code="InvalidParameterException")
