"""The scaling limit: how fast one function may create new execution environments.

A token bucket per function: `capacity` new environments at once, refilled at
capacity/window per second (AWS: 1000 per 10 s). It runs on the injected clock, so tests
move time instead of sleeping.

`ClusterBurst` is the same bucket across the cluster (`--database`): kept in the ledger, one
round trip per new environment, which costs a cold start far less than the start itself
(docs/CLUSTER.md, "The scaling limit").
"""

from __future__ import annotations

from dataclasses import dataclass

from lambent.clock import Clock
from lambent.concurrency.ledger import Ledger, LedgerUnavailable
from lambent.errors import InternalFailure, TooManyRequests


def _throttled(reserved: bool) -> TooManyRequests:
    reason = (
        "ReservedFunctionInvocationRateLimitExceeded"
        if reserved
        else "FunctionInvocationRateLimitExceeded"
    )
    return TooManyRequests("Rate Exceeded.", reason=reason)


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
            raise _throttled(reserved)
        bucket.tokens -= 1.0


class ClusterBurst:
    def __init__(self, ledger: Ledger, capacity: int, window_s: float) -> None:
        self._ledger = ledger
        self._capacity = capacity
        self._rate = capacity / window_s if window_s > 0 else float(capacity) * 1e9

    async def take(self, account_id: str, function_name: str, *, reserved: bool = False) -> None:
        """One new environment of the function, or AWS's 429 raised (a 5xx when the ledger
        cannot be reached)."""
        try:
            ok = await self._ledger.burst(
                f"{account_id}:{function_name}", self._capacity, self._rate
            )
        except LedgerUnavailable as exc:
            raise InternalFailure("An internal error occurred.") from exc
        if not ok:
            raise _throttled(reserved)
