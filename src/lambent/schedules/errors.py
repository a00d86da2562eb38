"""EventBridge Scheduler's errors (codes from botocore's `scheduler` model)."""

from __future__ import annotations

from lambent.errors import ConflictError, NotFoundError, ValidationError


class ScheduleNotFound(NotFoundError):
    code = "ResourceNotFoundException"


class ScheduleConflict(ConflictError):
    code = "ConflictException"


def invalid(message: str) -> ValidationError:
    return ValidationError(message)


def no_schedule(name: str) -> ScheduleNotFound:
    return ScheduleNotFound(f"Schedule {name} does not exist.")


def no_group(name: str) -> ScheduleNotFound:
    return ScheduleNotFound(f"Schedule group {name} does not exist.")
