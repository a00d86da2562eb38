"""The scaling limit: how fast one function may create new execution environments.

A token bucket per function: `capacity` new environments at once, refilled at
capacity/window per second (AWS: 1000 per 10 s). It runs on the injected clock, so tests
move time instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambent.clock import Clock
from lambent.errors import TooManyRequests


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class BurstLimiter:
    def __init__(self, clock: Clock, capacity: int, window_s: float) -> None:
        self._clock = clock
        self._capacity = float(capacity)
        self._rate = capacity / window_s if window_s > 0 else float("inf")
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def take(self, account_id: str, function_name: str, *, reserved: bool = False) -> None:
        now = self._clock.monotonic()
        key = (account_id, function_name)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self._capacity, now)
            self._buckets[key] = bucket
        bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.stamp) * self._rate)
        bucket.stamp = now
        if bucket.tokens < 1.0:
            reason = (
                "ReservedFunctionInvocationRateLimitExceeded"
                if reserved
                else "FunctionInvocationRateLimitExceeded"
            )
            raise TooManyRequests("Rate Exceeded.", reason=reason)
        bucket.tokens -= 1.0
