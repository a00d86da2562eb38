"""What one attempt at an invocation came to, as a value the caller decides from.

The sync path answers a client and raises AWS's errors; the async path must instead
decide (retry, back off, fail, drop), so `InvokeService.attempt` returns one of these and
never makes it read an HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambent.concurrency.throttle import Throttle
from lambent.environments.invocation import InvocationResult


@dataclass(frozen=True, slots=True)
class Succeeded:
    """The function ran and answered."""

    result: InvocationResult


@dataclass(frozen=True, slots=True)
class FunctionFailed:
    """The function ran and failed: its own error, or its runtime's (timeout, crash, OOM,
    init failure). `result` carries the error payload the function's record quotes."""

    result: InvocationResult


@dataclass(frozen=True, slots=True)
class Throttled:
    """No room to run now: a concurrency limit or the scaling rate, with AWS's reason."""

    throttle: Throttle


@dataclass(frozen=True, slots=True)
class NotFound:
    """The function, its version or its alias no longer exists."""

    message: str


@dataclass(frozen=True, slots=True)
class NotReady:
    """The function exists but may not run (its state is not Active)."""

    state: str


@dataclass(frozen=True, slots=True)
class Superseded:
    """The version's environments were retired by an update while this attempt waited:
    resolving the function again finds what to run now."""


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Lambent could not run it (no interpreter for the runtime, a sandbox failure)."""

    detail: str


InvokeOutcome = (
    Succeeded | FunctionFailed | Throttled | NotFound | NotReady | Superseded | Unavailable
)
