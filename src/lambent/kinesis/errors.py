"""Kinesis's errors in the domain's taxonomy: AWS's code and message, no HTTP (Kinesis
answers every one of them with 400; api/errors.py maps them)."""

from __future__ import annotations

from lambent.errors import ConflictError, InvalidInputError, NotFoundError


class StreamNotFound(NotFoundError):
    code = "ResourceNotFoundException"


class StreamInUse(ConflictError):
    code = "ResourceInUseException"


class InvalidArgument(InvalidInputError):
    code = "InvalidArgumentException"


class ExpiredIterator(InvalidInputError):
    code = "ExpiredIteratorException"


def not_found(name: str, account: str) -> StreamNotFound:
    return StreamNotFound(f"Stream {name} under account {account} not found.")
