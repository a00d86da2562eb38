"""SQS's errors in the domain's taxonomy: AWS's JSON code, its message, no HTTP.

The query-protocol code each one has on the wire (`AWS.SimpleQueueService.NonExistentQueue`
for QueueDoesNotExist) is the API layer's business (api/sqs/errors.py)."""

from __future__ import annotations

from lambent.errors import ConflictError, InvalidInputError, NotFoundError


class QueueDoesNotExist(NotFoundError):
    code = "QueueDoesNotExist"

    def __init__(self, message: str = "The specified queue does not exist.") -> None:
        super().__init__(message)


class QueueNameExists(ConflictError):
    code = "QueueNameExists"


class QueueDeletedRecently(ConflictError):
    code = "QueueDeletedRecently"


class PurgeQueueInProgress(ConflictError):
    code = "PurgeQueueInProgress"


class InvalidAttributeName(InvalidInputError):
    code = "InvalidAttributeName"


class InvalidAttributeValue(InvalidInputError):
    code = "InvalidAttributeValue"


class InvalidParameterValue(InvalidInputError):
    code = "InvalidParameterValue"


class MissingParameter(InvalidInputError):
    code = "MissingParameter"


class InvalidMessageContents(InvalidInputError):
    code = "InvalidMessageContents"


class ReceiptHandleIsInvalid(InvalidInputError):
    code = "ReceiptHandleIsInvalid"


class MessageNotInflight(InvalidInputError):
    code = "MessageNotInflight"


class InvalidAddress(InvalidInputError):
    code = "InvalidAddress"


class EmptyBatchRequest(InvalidInputError):
    code = "EmptyBatchRequest"


class TooManyEntriesInBatchRequest(InvalidInputError):
    code = "TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(InvalidInputError):
    code = "BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(InvalidInputError):
    code = "InvalidBatchEntryId"


class BatchRequestTooLong(InvalidInputError):
    code = "BatchRequestTooLong"


class UnsupportedOperation(InvalidInputError):
    code = "UnsupportedOperation"


class TooManyTags(InvalidInputError):
    code = "InvalidParameterValue"


class SqsResourceNotFound(NotFoundError):
    code = "ResourceNotFoundException"


class OverLimit(InvalidInputError):
    code = "OverLimit"


def invalid_value(name: str, value: object, reason: str) -> InvalidParameterValue:
    """AWS's wording for a parameter out of its range."""
    return InvalidParameterValue(f"Value {value} for parameter {name} is invalid. Reason: {reason}")
