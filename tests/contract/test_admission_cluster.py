"""Admission across nodes: two `Admission`s (two frontends) on one ledger, memory and
PostgreSQL. The quota holds exactly over both, idle tokens move to the node that needs
them, and a node that stops renewing loses its tokens after its lease."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from lambent.clock import SystemClock
from lambent.concurrency.admission import Admission, Lease
from lambent.concurrency.ledger import pool_key
from lambent.concurrency.throttle import Throttle, ThrottleReason
from lambent.concurrency.tokens import ClusterTokens, TokenSettings
from tests.contract.ledgers import Ledgers, opened

BOUND_S = 30.0  # against hangs only
ACCOUNT = "111111111111"


class Config:
    """What every node's catalog says (the same everywhere: settings propagate)."""

    def __init__(self) -> None:
        self.reserved: dict[str, int] = {}
        self.provisioned: dict[str, dict[str, int]] = {}

    def reserved_for(self, account: str, fn: str) -> int | None:
        return self.reserved.get(fn)

    def reserved_total(self, account: str) -> int:
        return sum(self.reserved.values())

    def provisioned_for(self, account: str, fn: str) -> Mapping[str, int]:
        return self.provisioned.get(fn, {})


@asynccontextmanager
async def cluster(
    ledgers: Ledgers, config: Config, limit: int, nodes: int = 2, lease_s: float = 10.0
) -> AsyncIterator[list[tuple[Admission, ClusterTokens]]]:
    made: list[tuple[Admission, ClusterTokens]] = []
    settings = TokenSettings(lease_s=lease_s, tick_s=min(0.5, lease_s / 4), wait_s=0.2)
    try:
        for i in range(nodes):
            tokens = ClusterTokens(await ledgers.node(), f"node{i}", SystemClock(), None, settings)
            await tokens.start()
            admission = Admission(
                limit,
                config.reserved_for,
                config.reserved_total,
                config.provisioned_for,
                tokens=tokens,
            )
            made.append((admission, tokens))
        yield made
    finally:
        for _, tokens in made:
            await tokens.close()


Taken = list[tuple[Admission, Lease]]


async def storm(
    nodes: list[Admission], count: int, fn: str = "f", qualifiers: tuple[str, ...] = ()
) -> tuple[Taken, list[Throttle]]:
    """`count` acquisitions at once, spread evenly over the nodes."""
    order = [nodes[i % len(nodes)] for i in range(count)]
    got = await asyncio.wait_for(
        asyncio.gather(*(node.acquire(ACCOUNT, fn, qualifiers) for node in order)), BOUND_S
    )
    leases = [(node, g) for node, g in zip(order, got, strict=True) if isinstance(g, Lease)]
    throttles = [g for g in got if isinstance(g, Throttle)]
    return leases, throttles


def give_all(taken: Taken) -> None:
    for node, lease in taken:
        node.give(lease)


async def test_exactly_the_quota_runs_across_two_nodes(ledger_url: str | None) -> None:
    async with opened(ledger_url) as ledgers, cluster(ledgers, Config(), 100) as made:
        nodes = [a for a, _ in made]
        leases, throttles = await storm(nodes, 200)
        assert len(leases) == 100
        assert len(throttles) == 100
        assert {t.reason for t in throttles} == {ThrottleReason.ACCOUNT_CONCURRENCY}
        assert sum(n.in_use(ACCOUNT) for n in nodes) == 100
        give_all(leases)
        assert sum(n.in_use() for n in nodes) == 0
        # All 100 are there again on either node (the other gives its idle ones back).
        for node in nodes:
            again, none = await storm([node], 100)
            assert (len(again), len(none)) == (100, 0)
            give_all(again)


async def test_a_silent_node_loses_its_tokens_after_its_lease(ledger_url: str | None) -> None:
    async with opened(ledger_url) as ledgers, cluster(ledgers, Config(), 10, lease_s=0.4) as made:
        (a, _), (b, b_tokens) = made
        held, _ = await storm([b], 10)
        assert len(held) == 10
        await b_tokens.close(give_back=False)  # it dies holding all ten
        assert isinstance(await a.acquire(ACCOUNT, "f"), Throttle)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BOUND_S
        got: list[Lease] = []
        while len(got) < 10 and loop.time() < deadline:
            taken = await a.acquire(ACCOUNT, "f")
            if isinstance(taken, Lease):
                got.append(taken)
        assert len(got) == 10
        assert isinstance(await a.acquire(ACCOUNT, "f"), Throttle)


async def test_reservations_hold_across_nodes_and_are_carved_out(ledger_url: str | None) -> None:
    config = Config()
    config.reserved = {"r": 30}
    async with opened(ledger_url) as ledgers, cluster(ledgers, config, 100) as made:
        nodes = [a for a, _ in made]
        unreserved, u_throttled = await storm(nodes, 100, "u")
        reserved, r_throttled = await storm(nodes, 50, "r")
        assert (len(unreserved), len(reserved)) == (70, 30)
        assert {t.reason for t in u_throttled} == {ThrottleReason.ACCOUNT_CONCURRENCY}
        assert {t.reason for t in r_throttled} == {ThrottleReason.RESERVED_CONCURRENCY}
        assert {t.reserved for t in r_throttled} == {30}


async def test_on_demand_qualifiers_keep_off_the_provisioned_part(ledger_url: str | None) -> None:
    config = Config()
    config.reserved = {"p": 10}
    config.provisioned = {"p": {"live": 4}}
    async with opened(ledger_url) as ledgers, cluster(ledgers, config, 100) as made:
        nodes = [a for a, _ in made]
        on_demand, _ = await storm(nodes, 10, "p", ("1",))
        assert len(on_demand) == 6
        provisioned, _ = await storm(nodes, 10, "p", ("live", "1"))
        assert len(provisioned) == 4
        give_all(on_demand + provisioned)
        assert sum(n.in_use() for n in nodes) == 0


async def test_try_take_uses_only_tokens_held_here(ledger_url: str | None) -> None:
    async with opened(ledger_url) as ledgers, cluster(ledgers, Config(), 5) as made:
        (a, a_tokens), _ = made
        assert isinstance(a.try_take(ACCOUNT, "f"), Throttle)  # none held yet
        lease = await a.acquire(ACCOUNT, "f")
        assert isinstance(lease, Lease)
        a.give(lease)
        assert a_tokens.held(pool_key("u", ACCOUNT))[1] == 0
        again = a.try_take(ACCOUNT, "f")  # the token stayed here, idle
        assert isinstance(again, Lease)
        a.give(again)
