"""EventBridge's errors in the domain's taxonomy: AWS's code and message, no HTTP.

EventBridge answers 400 for all of its client errors (the API layer maps the status)."""

from __future__ import annotations

from lambent.errors import ClientError, ConflictError, InvalidInputError, NotFoundError


class EventsNotFound(NotFoundError):
    code = "ResourceNotFoundException"


class EventsAlreadyExists(ConflictError):
    code = "ResourceAlreadyExistsException"


class InvalidEventPattern(InvalidInputError):
    code = "InvalidEventPatternException"


class EventsValidation(InvalidInputError):
    code = "ValidationException"


class EventsLimitExceeded(ClientError):
    code = "LimitExceededException"


class EventsAccessDenied(ClientError):
    code = "AccessDeniedException"


def bus_not_found(name: str) -> EventsNotFound:
    return EventsNotFound(f"Event bus {name} does not exist.")


def rule_not_found(rule: str, bus: str) -> EventsNotFound:
    return EventsNotFound(f"Rule {rule} does not exist on EventBus {bus}.")


def bad_pattern(reason: str) -> InvalidEventPattern:
    return InvalidEventPattern(f"Event pattern is not valid. Reason: {reason}")
