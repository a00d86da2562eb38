"""One node's token blocks against a ledger that fails or forgets: a 5xx rather than a
throttle while the ledger is unreachable, and a lapsed hold is believed, not revived."""

from __future__ import annotations

import pytest

from lambent.clock import SystemClock
from lambent.concurrency.admission import Admission, Lease
from lambent.concurrency.ledger import LedgerUnavailable, MemoryLedger, pool_key
from lambent.concurrency.throttle import Throttle
from lambent.concurrency.tokens import ClusterTokens, TokenSettings
from lambent.errors import InternalFailure

SETTINGS = TokenSettings(lease_s=10.0, tick_s=3600.0, wait_s=0.05, retry_s=0.005)


class FlakyLedger(MemoryLedger):
    def __init__(self) -> None:
        super().__init__(SystemClock())
        self.down = False

    async def take(self, node: str, pool: str, want: int, capacity: int, lease_s: float) -> int:
        if self.down:
            raise LedgerUnavailable("connection refused")
        return await super().take(node, pool, want, capacity, lease_s)


def admission(tokens: ClusterTokens, limit: int = 10) -> Admission:
    return Admission(limit, lambda a, f: None, lambda a: 0, tokens=tokens)


async def test_an_unreachable_ledger_is_a_5xx_not_a_throttle() -> None:
    ledger = FlakyLedger()
    tokens = ClusterTokens(ledger, "n", SystemClock(), settings=SETTINGS)
    await tokens.start()
    try:
        adm = admission(tokens)
        ledger.down = True
        with pytest.raises(InternalFailure):
            await adm.acquire("1", "f")
        ledger.down = False  # back: the next request gets its block
        assert isinstance(await adm.acquire("1", "f"), Lease)
    finally:
        await tokens.close()


async def test_a_lapsed_hold_is_believed_on_renewal() -> None:
    ledger = MemoryLedger(SystemClock())
    tokens = ClusterTokens(ledger, "n", SystemClock(), settings=SETTINGS)
    await tokens.start()
    try:
        adm = admission(tokens)
        lease = await adm.acquire("1", "f")
        assert isinstance(lease, Lease)
        held, used = tokens.held(pool_key("u", "1"))
        assert (held, used) == (1, 1)
        await ledger.drop("n")  # what a lapse looks like from here
        await tokens.tick()
        assert tokens.held(pool_key("u", "1")) == (0, 1)
        adm.give(lease)
        assert tokens.held(pool_key("u", "1")) == (0, 0)
        assert await ledger.held(pool_key("u", "1")) == 0
    finally:
        await tokens.close()


async def test_the_whole_capacity_here_throttles_at_once() -> None:
    tokens = ClusterTokens(MemoryLedger(SystemClock()), "n", SystemClock(), settings=SETTINGS)
    await tokens.start()
    try:
        adm = admission(tokens, limit=2)
        held = [await adm.acquire("1", "f") for _ in range(2)]
        assert all(isinstance(h, Lease) for h in held)
        assert isinstance(await adm.acquire("1", "f"), Throttle)
    finally:
        await tokens.close()
