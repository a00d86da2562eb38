"""Secrets Manager's errors in the domain's taxonomy: AWS's code and message, no HTTP.

Secrets Manager answers every one of them with HTTP 400 (api/errors.py says so)."""

from __future__ import annotations

from lambent.errors import ConflictError, InvalidInputError, NotFoundError

NOT_FOUND = "Secrets Manager can't find the specified secret."
MARKED_FOR_DELETION = (
    "You can't perform this operation on the secret because it was marked for deletion."
)


class SecretNotFound(NotFoundError):
    code = "ResourceNotFoundException"

    def __init__(self, message: str = NOT_FOUND) -> None:
        super().__init__(message)


class SecretExists(ConflictError):
    code = "ResourceExistsException"


class SecretInvalidRequest(InvalidInputError):
    """The request is well formed but the secret's state refuses it (scheduled for
    deletion, not scheduled when restoring, a version that cannot change)."""

    code = "InvalidRequestException"


class SecretInvalidParameter(InvalidInputError):
    code = "InvalidParameterException"


def marked_for_deletion() -> SecretInvalidRequest:
    return SecretInvalidRequest(MARKED_FOR_DELETION)
