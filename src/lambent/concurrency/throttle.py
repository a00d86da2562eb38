"""A throttle as a value: why an invocation may not run now.

Admission and the scaling limit answer with a `Throttle` instead of raising, so the async
scheduler can decide from it (wait for its own deliveries, back off, fail at once on
reserved concurrency 0). The sync path turns it into AWS's 429 with `error()`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lambent.errors import TooManyRequests

RATE_EXCEEDED = "Rate Exceeded."


class ThrottleReason(enum.Enum):
    """AWS's `Reason` member of TooManyRequestsException, verbatim."""

    ACCOUNT_CONCURRENCY = "ConcurrentInvocationLimitExceeded"
    RESERVED_CONCURRENCY = "ReservedFunctionConcurrentInvocationLimitExceeded"
    SCALING_RATE = "FunctionInvocationRateLimitExceeded"
    RESERVED_SCALING_RATE = "ReservedFunctionInvocationRateLimitExceeded"


@dataclass(frozen=True, slots=True)
class Throttle:
    reason: ThrottleReason
    # The function's reserved concurrency when that is what throttled it (0: it never runs).
    reserved: int | None = None

    @property
    def concurrency(self) -> bool:
        """A concurrency limit (leases held), not the rate of new environments."""
        return self.reason in (
            ThrottleReason.ACCOUNT_CONCURRENCY,
            ThrottleReason.RESERVED_CONCURRENCY,
        )

    def error(self) -> TooManyRequests:
        return TooManyRequests(RATE_EXCEEDED, reason=self.reason.value)

    @classmethod
    def from_error(cls, exc: TooManyRequests) -> Throttle:
        """A throttle raised by a layer that raises (the scaling limit inside the pool)."""
        reason = _BY_VALUE.get(exc.reason, ThrottleReason.SCALING_RATE)
        return cls(reason)


_BY_VALUE = {reason.value: reason for reason in ThrottleReason}
