"""What only the PostgreSQL queue promises: several nodes on one schema.

Each node is a `PostgresQueue` with its own id and pool on the test's schema. Times are
passed in (claims, renewals), so node leases lapse without anyone waiting; wake-ups are
awaited as events, with a bound."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest

from lambent.async_invoke.event import EventState
from lambent.async_invoke.postgres import PostgresQueue
from tests.contract.queues import DEST, FN, HANG_S, LEASE, OTHER, T0, event, ids, open_pg
from tests.pg import BASE_URL

pytestmark = pytest.mark.services
NODE_LEASE = 15.0


@pytest.fixture
async def nodes(pg_url: str) -> AsyncIterator[tuple[PostgresQueue, PostgresQueue]]:
    a = await open_pg(pg_url, "node-a", NODE_LEASE)()
    b = await open_pg(pg_url, "node-b", NODE_LEASE)()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


class Woken:
    """Counts a queue's wake-ups; `wait()` returns at the next one (bounded)."""

    def __init__(self, queue: PostgresQueue) -> None:
        self.count = 0
        self._event = asyncio.Event()
        queue.on_remote(self._woken)

    def _woken(self) -> None:
        self.count += 1
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self) -> None:
        await asyncio.wait_for(self._event.wait(), HANG_S)


async def test_nodes_claiming_at_once_take_disjoint_events(
    nodes: tuple[PostgresQueue, PostgresQueue],
) -> None:
    a, b = nodes
    expected = {f"e{i}" for i in range(400)} | {f"o{i}" for i in range(100)}
    await asyncio.gather(*(a.enqueue(event(f"e{i}")) for i in range(400)))
    await asyncio.gather(*(b.enqueue(event(f"o{i}", dest=OTHER)) for i in range(100)))

    async def drain(node: PostgresQueue, fn: str) -> list[str]:
        taken: list[str] = []
        while batch := await node.claim(fn, T0, 7, LEASE):
            taken += ids(batch)
        return taken

    # Four claimers per node, per function, all at once.
    runs = [drain(node, fn) for node in (a, b) for fn in (FN, OTHER.function_arn) for _ in range(4)]
    results = await asyncio.wait_for(asyncio.gather(*runs), HANG_S)
    by_a = [i for r in results[:8] for i in r]
    by_b = [i for r in results[8:] for i in r]
    everything = by_a + by_b
    assert len(everything) == len(set(everything))  # nothing handed out twice
    assert set(everything) == expected
    assert by_a and by_b  # both nodes took part
    assert (await a.stats()).claimed == len(expected)


async def test_a_node_that_stops_renewing_loses_its_claims_after_the_lease(
    nodes: tuple[PostgresQueue, PostgresQueue],
) -> None:
    a, b = nodes
    for name in ("x", "y", "z"):
        await a.enqueue(event(name))
    assert ids(await a.claim(FN, T0, 10, LEASE)) == ["x", "y", "z"]
    assert (await a.renew(T0 + 10)).renewed == 3  # alive at T0 + 10: leased until T0 + 25
    assert await b.claim(FN, T0 + 24, 10, LEASE) == []
    assert await b.due_functions(T0 + 24, cap=10) == []
    assert await b.next_due(T0 + 24) == T0 + 25
    # A stops renewing (it died). At T0 + 25 its claims are anyone's.
    assert not (await b.renew(T0 + 24)).lapsed_elsewhere
    woken = Woken(b)
    # B's renewal notices A's lapsed claims and wakes B's scheduler.
    assert (await b.renew(T0 + 25)).lapsed_elsewhere
    assert woken.count >= 1
    assert [d.count for d in await b.due_functions(T0 + 25, cap=10)] == [3]
    assert ids(await b.claim(FN, T0 + 25, 10, LEASE)) == ["x", "y", "z"]
    # A comes back late: its settlements of claims B now holds change nothing...
    await a.reschedule("x", EventState(enqueued_at=T0, attempts=5), T0 + 1000)
    await a.release(["y"])
    assert await a.claim(FN, T0 + 26, 10, LEASE) == []
    assert (await a.renew(T0 + 26)).renewed == 0  # ...and it holds none of them any more
    assert (await b.stats()).claimed == 3
    # ...but B's own do.
    await b.release(["y"])
    assert ids(await a.claim(FN, T0 + 26, 10, LEASE)) == ["y"]


async def test_the_deadline_bounds_a_renewed_claim(
    nodes: tuple[PostgresQueue, PostgresQueue],
) -> None:
    a, b = nodes
    await a.enqueue(event("e"))
    await a.claim(FN, T0, 1, 20.0)  # a delivery bound of 20 s, renewed by a live node
    await a.renew(T0 + 10)
    assert await b.next_due(T0 + 10) == T0 + 20  # not T0 + 25: the claim's own end
    assert ids(await b.claim(FN, T0 + 20, 1, LEASE)) == ["e"]


async def test_recover_releases_only_this_nodes_claims(
    nodes: tuple[PostgresQueue, PostgresQueue],
) -> None:
    a, b = nodes
    for name in ("a1", "a2", "b1", "b2", "free"):
        await a.enqueue(event(name))
    assert ids(await a.claim(FN, T0, 2, LEASE)) == ["a1", "a2"]
    assert ids(await b.claim(FN, T0, 2, LEASE)) == ["b1", "b2"]
    assert await a.recover() == 2
    assert (await b.stats()).claimed == 2
    assert ids(await a.claim(FN, T0, 10, LEASE)) == ["a1", "a2", "free"]
    assert await b.recover() == 2
    assert ids(await b.claim(FN, T0, 10, LEASE)) == ["b1", "b2"]


async def test_an_enqueue_on_one_node_wakes_the_others(
    nodes: tuple[PostgresQueue, PostgresQueue],
) -> None:
    a, b = nodes
    woken = Woken(b)
    await a.enqueue(event("e"))
    await woken.wait()
    claimed = await b.claim(FN, T0, 10, LEASE)
    woken_a = Woken(a)  # before the commit: its NOTIFY may arrive before the commit returns
    await b.reschedule("e", claimed[0].state, T0 + 60)  # a retry wakes the others too
    await woken_a.wait()


async def test_a_lost_listen_connection_comes_back_by_itself(
    nodes: tuple[PostgresQueue, PostgresQueue],
) -> None:
    a, b = nodes
    woken = Woken(b)
    pid = b.wakeups.backend_pid
    assert pid is not None
    with psycopg.connect(BASE_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    await b.wakeups.wait_connections(2, HANG_S)
    woken.clear()
    await a.enqueue(event("after"))
    await woken.wait()
    assert ids(await b.claim(DEST.function_arn, T0, 10, LEASE)) == ["after"]


async def test_group_commit_shares_commits(pg_url: str) -> None:
    queue = await open_pg(pg_url)()
    try:
        before = (await queue.stats()).commits
        await asyncio.gather(*(queue.enqueue(event(f"e{i}")) for i in range(200)))
        after = await queue.stats()
    finally:
        await queue.close()
    assert after.queued == 200
    # 200 acceptances at once: whatever waits while a batch commits goes in the next.
    assert after.commits - before <= 20, after.commits - before


async def test_claimed_elsewhere_sees_other_nodes_live_claims_only(
    nodes: tuple[PostgresQueue, PostgresQueue],
) -> None:
    a, b = nodes
    account = DEST.account_id
    await a.enqueue(event("e"))
    assert not await b.claimed_elsewhere(account, FN, T0)
    await a.claim(FN, T0, 1, LEASE)  # leased until T0 + NODE_LEASE
    assert await b.claimed_elsewhere(account, FN, T0 + 1)
    assert await b.claimed_elsewhere(account, None, T0 + 1)  # any of the account's
    assert not await b.claimed_elsewhere("999999999999", None, T0 + 1)
    assert not await b.claimed_elsewhere(account, OTHER.function_arn, T0 + 1)
    assert not await a.claimed_elsewhere(account, FN, T0 + 1)  # its own
    assert not await b.claimed_elsewhere(account, FN, T0 + NODE_LEASE)  # lapsed: A is dead
