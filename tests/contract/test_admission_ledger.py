"""The admission ledger's contract, for memory and PostgreSQL: never more held than the
capacity, whatever the interleaving; give and lapse return tokens; signals reach peers."""

from __future__ import annotations

import asyncio

from lambent.concurrency.ledger import SignalKind
from tests.contract.ledgers import opened

LEASE_S = 10.0
BOUND_S = 30.0  # against hangs only


async def until_granted(take: object, bound_s: float = BOUND_S) -> int:
    """Ask again until something is granted (a lapse happens on the server's clock)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound_s
    while loop.time() < deadline:
        got = await take()  # type: ignore[operator]
        if got:
            return int(got)
        await asyncio.sleep(0.02)
    raise AssertionError("nothing granted within the bound")


async def test_grants_stop_at_the_capacity_across_nodes(ledger_url: str | None) -> None:
    async with opened(ledger_url) as ledgers:
        a, b = await ledgers.node(), await ledgers.node()
        assert await a.take("A", "u:1", 60, 100, LEASE_S) == 60
        assert await b.take("B", "u:1", 60, 100, LEASE_S) == 40
        assert await b.take("B", "u:1", 1, 100, LEASE_S) == 0
        assert await a.held("u:1") == 100
        assert await a.take("A", "u:2", 5, 100, LEASE_S) == 5  # pools are apart


async def test_concurrent_takes_never_grant_past_the_capacity(ledger_url: str | None) -> None:
    async with opened(ledger_url) as ledgers:
        a, b = await ledgers.node(), await ledgers.node()
        grants = await asyncio.gather(
            *(a.take("A", "p", 1, 100, LEASE_S) for _ in range(100)),
            *(b.take("B", "p", 3, 100, LEASE_S) for _ in range(100)),
        )
        assert sum(grants) == 100
        assert await a.held("p") == 100


async def test_given_back_tokens_go_to_another_node(ledger_url: str | None) -> None:
    async with opened(ledger_url) as ledgers:
        a, b = await ledgers.node(), await ledgers.node()
        assert await a.take("A", "p", 10, 10, LEASE_S) == 10
        await a.give("A", "p", 4)
        assert await b.take("B", "p", 10, 10, LEASE_S) == 4
        await a.drop("A")
        assert await b.take("B", "p", 10, 10, LEASE_S) == 6
        assert await b.renew("B", LEASE_S) == {"p": 10}
        assert await a.renew("A", LEASE_S) == {}


async def test_a_lapsed_hold_is_granted_again(ledger_url: str | None) -> None:
    async with opened(ledger_url) as ledgers:
        a, b = await ledgers.node(), await ledgers.node()
        assert await a.take("A", "p", 5, 5, 0.2) == 5
        assert await b.take("B", "p", 5, 5, LEASE_S) == 0
        assert await until_granted(lambda: b.take("B", "p", 5, 5, LEASE_S)) == 5
        assert await a.renew("A", LEASE_S) == {}  # lapsed: not revived by a late renewal


async def test_renewing_keeps_a_hold(ledger_url: str | None) -> None:
    async with opened(ledger_url) as ledgers:
        a = await ledgers.node()
        assert await a.take("A", "p", 3, 5, LEASE_S) == 3
        assert await a.take("A", "q", 1, 5, LEASE_S) == 1
        assert await a.renew("A", LEASE_S) == {"p": 3, "q": 1}


async def test_signals_reach_every_node(ledger_url: str | None) -> None:
    async with opened(ledger_url) as ledgers:
        a, b = await ledgers.node(), await ledgers.node()
        heard: asyncio.Queue[tuple[SignalKind, str, str]] = asyncio.Queue()
        b.subscribe(lambda kind, pool, node: heard.put_nowait((kind, pool, node)))
        await a.signal("ask", "r:1:f", "A")
        await a.signal("ret", "u:1", "A")
        got = [await asyncio.wait_for(heard.get(), BOUND_S) for _ in range(2)]
        assert got == [("ask", "r:1:f", "A"), ("ret", "u:1", "A")]


async def test_the_scaling_bucket_is_shared_exactly(ledger_url: str | None) -> None:
    async with opened(ledger_url) as ledgers:
        a, b = await ledgers.node(), await ledgers.node()
        taken = await asyncio.gather(
            *(node.burst("1:f", 10, 0.0001) for node in (a, b) for _ in range(30))
        )
        assert sum(taken) == 10
        assert await a.burst("1:g", 10, 0.0001)  # a bucket per function


async def test_the_scaling_bucket_refills(ledger_url: str | None) -> None:
    async with opened(ledger_url) as ledgers:
        a = await ledgers.node()
        assert await a.burst("1:f", 2, 50.0)
        assert await a.burst("1:f", 2, 50.0)
        assert await until_granted(lambda: a.burst("1:f", 2, 50.0)) == 1
