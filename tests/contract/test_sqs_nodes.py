"""Two nodes on one PostgreSQL schema: receives never share a message, and a send on one
wakes the other (NOTIFY)."""

from __future__ import annotations

import asyncio

import pytest

from lambent.sqs.model import Claim
from lambent.sqs.postgres import PgQueues
from tests.contract.sqs_backends import HANG_S, T0, message, queue

pytestmark = pytest.mark.services


async def test_concurrent_receives_on_two_nodes_take_disjoint_messages(pg_url: str) -> None:
    a = await PgQueues.open(pg_url, node_id="a", pool_size=4)
    b = await PgQueues.open(pg_url, node_id="b", pool_size=4)
    try:
        q = await a.create_queue(queue())
        for start in range(0, 200, 10):
            await a.send(q.id, [message(f"m{i}") for i in range(start, start + 10)], None)

        async def drain(node: PgQueues) -> list[str]:
            got: list[str] = []
            while True:
                batch = await node.claim(Claim(q.id, T0, 10, T0 + 60_000, False))
                if not batch.messages:
                    return got
                got += [m.message_id for m in batch.messages]

        results = await asyncio.wait_for(asyncio.gather(*(drain(n) for n in (a, b, a, b))), HANG_S)
        everything = [m for r in results for m in r]
        assert len(everything) == 200 and len(set(everything)) == 200
    finally:
        await a.close()
        await b.close()


async def test_a_send_on_one_node_wakes_the_other(pg_url: str) -> None:
    a = await PgQueues.open(pg_url, node_id="a", pool_size=2)
    b = await PgQueues.open(pg_url, node_id="b", pool_size=2)
    try:
        woken: asyncio.Queue[str] = asyncio.Queue()
        b.on_remote_send(woken.put_nowait)
        q = await a.create_queue(queue())
        await a.send(q.id, [message("x")], None)
        assert await asyncio.wait_for(woken.get(), HANG_S) in (q.id, "*")
        while not woken.empty():
            woken.get_nowait()
        await a.send(q.id, [message("y")], None)
        assert await asyncio.wait_for(woken.get(), HANG_S) == q.id
    finally:
        await a.close()
        await b.close()
