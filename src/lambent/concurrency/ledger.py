"""The cluster's admission ledger: who holds how many tokens of each pool, and until when.

A pool is one concurrency limit: an account's unreserved pool, one function's reservation,
or the part of a reservation a qualifier without provisioned concurrency may use
(`pool_key`). A token is the right to run one invocation; a node holds tokens in blocks
(`concurrency/tokens.py`) and admits from them locally. The ledger is the only shared
state, and its one invariant is the cluster's guarantee:

    for every pool, the tokens held by all nodes whose lease has not lapsed never exceed
    the capacity the granting node named, at any instant.

`take` grants at most `capacity - held by everyone` (after dropping holds whose lease
lapsed), atomically per pool; `give` and lapse only ever lower what is held; `renew`
extends a node's lease on everything it holds. Peers talk through `signal`: "ask" (a node
found the pool empty: give back idle tokens) and "ret" (tokens were given back: try
again). Signals are hints; losing one costs latency, never safety.

`MemoryLedger` is the single-process implementation (tests, the simulation): the same
contract on the injected clock. `pg_ledger.PgLedger` is the cluster's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from lambent.clock import Clock

SignalKind = Literal["ask", "ret"]
# (kind, pool, node that sent it)
SignalListener = Callable[[SignalKind, str, str], None]


def pool_key(kind: Literal["u", "r", "o"], account_id: str, function_name: str = "") -> str:
    """u: an account's unreserved pool; r: a function's reservation; o: the part of a
    reservation open to qualifiers without provisioned concurrency."""
    return f"u:{account_id}" if kind == "u" else f"{kind}:{account_id}:{function_name}"


class LedgerUnavailable(Exception):
    """The ledger could not be reached; admission answers a 5xx, not a throttle."""


class Ledger(Protocol):
    async def take(self, node: str, pool: str, want: int, capacity: int, lease_s: float) -> int:
        """Grant `node` up to `want` more tokens of `pool` (0 when it is full); renews the
        node's lease on that pool."""
        ...

    async def give(self, node: str, pool: str, count: int) -> None:
        """`node` gives back `count` tokens of `pool`."""
        ...

    async def renew(self, node: str, lease_s: float) -> dict[str, int]:
        """Extend `node`'s lease on all it holds; what the ledger records it holding (a
        pool missing: its hold lapsed and may be someone else's now)."""
        ...

    async def drop(self, node: str) -> None:
        """Everything `node` holds goes back (a clean stop)."""
        ...

    async def held(self, pool: str) -> int:
        """Tokens of `pool` held by nodes whose lease has not lapsed."""
        ...

    async def burst(self, key: str, capacity: int, rate: float) -> bool:
        """Take one token of `key`'s scaling-limit bucket (`capacity` at most, refilled at
        `rate` a second); False when it has none."""
        ...

    async def signal(self, kind: SignalKind, pool: str, node: str) -> None: ...

    def subscribe(self, listener: SignalListener) -> None:
        """`listener` hears every signal, its own node's too (it filters)."""
        ...

    async def close(self) -> None: ...


@dataclass
class _Hold:
    tokens: int
    expires: float


class MemoryLedger:
    """One process's ledger, shared by several node objects (tests, the simulation)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._holds: dict[str, dict[str, _Hold]] = {}
        self._listeners: list[SignalListener] = []
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, stamp)

    def _live(self, pool: str) -> dict[str, _Hold]:
        now = self._clock.monotonic()
        holds = self._holds.setdefault(pool, {})
        for node in [n for n, h in holds.items() if h.expires <= now]:
            del holds[node]
        return holds

    async def take(self, node: str, pool: str, want: int, capacity: int, lease_s: float) -> int:
        holds = self._live(pool)
        free = capacity - sum(h.tokens for h in holds.values())
        granted = max(0, min(want, free))
        hold = holds.setdefault(node, _Hold(0, 0.0))
        hold.tokens += granted
        hold.expires = self._clock.monotonic() + lease_s
        return granted

    async def give(self, node: str, pool: str, count: int) -> None:
        hold = self._holds.get(pool, {}).get(node)
        if hold is not None:
            hold.tokens = max(0, hold.tokens - count)

    async def renew(self, node: str, lease_s: float) -> dict[str, int]:
        expires = self._clock.monotonic() + lease_s
        mine: dict[str, int] = {}
        for pool in list(self._holds):
            hold = self._live(pool).get(node)
            if hold is not None:
                hold.expires = expires
                mine[pool] = hold.tokens
        return mine

    async def drop(self, node: str) -> None:
        for holds in self._holds.values():
            holds.pop(node, None)

    async def held(self, pool: str) -> int:
        return sum(h.tokens for h in self._live(pool).values())

    async def burst(self, key: str, capacity: int, rate: float) -> bool:
        now = self._clock.monotonic()
        tokens, stamp = self._buckets.get(key, (float(capacity), now))
        tokens = min(float(capacity), tokens + max(0.0, now - stamp) * rate)
        if tokens < 1.0:
            return False
        self._buckets[key] = (tokens - 1.0, now)
        return True

    async def signal(self, kind: SignalKind, pool: str, node: str) -> None:
        loop = asyncio.get_running_loop()
        for listener in self._listeners:
            loop.call_soon(listener, kind, pool, node)  # later, as a notification arrives

    def subscribe(self, listener: SignalListener) -> None:
        self._listeners.append(listener)

    async def close(self) -> None:
        self._listeners.clear()
