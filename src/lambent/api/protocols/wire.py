"""An error as one service's wire sees it (made by `api/errors.py`, shaped by a protocol)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WireError:
    code: str  # the service's own name for it (IAM's NoSuchEntity, S3's InternalError, ...)
    status: int
    headers: list[tuple[str, str]]
    sender_fault: bool  # rest-json `Type: User`, query `<Type>Sender</Type>`
