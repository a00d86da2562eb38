"""What one invocation asks of an environment, and what comes back."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

TAIL_BYTES = 4096


@dataclass(frozen=True, slots=True)
class InvocationRequest:
    request_id: str
    payload: bytes
    invoked_arn: str
    client_context: str | None = None  # JSON text for the runtime header
    cognito_identity: str | None = None
    trace_id: str | None = None
    want_tail: bool = False


@dataclass(slots=True)
class InvocationResult:
    payload: bytes
    executed_version: str
    function_error: str | None = None  # "Unhandled" when the function failed
    error_type: str | None = None  # errorType, for REPORT's Status and for async retries
    log_tail: str | None = None  # base64 of the last 4 KB of the invocation's log
    duration_ms: float = 0.0
    cold: bool = False

    @property
    def failed(self) -> bool:
        return self.function_error is not None


@dataclass(slots=True)
class LogCollector:
    """The invocation's own log lines, kept only when the caller asked for the tail."""

    keep: bool
    lines: list[str] = field(default_factory=list)
    size: int = 0

    def add(self, lines: list[str]) -> None:
        if not self.keep:
            return
        for line in lines:
            self.lines.append(line)
            self.size += len(line)
        while self.size > 4 * TAIL_BYTES and len(self.lines) > 1:
            self.size -= len(self.lines.pop(0))

    def tail(self) -> str | None:
        if not self.keep:
            return None
        raw = "".join(self.lines).encode()
        return base64.b64encode(raw[-TAIL_BYTES:]).decode()


def error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()
