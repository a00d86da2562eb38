"""Admission on the PostgreSQL ledger: leases per second with token blocks, against a naive
PostgreSQL round trip per lease, in one run.

    python -m bench.pg_admission [--clients 1,10,100] [--seconds 3] [--nodes 2]
        [--database postgresql://postgres@127.0.0.1:5432/test]

Each mode runs on a fresh schema (dropped afterwards), with `--nodes` nodes in this process
(each its own `PgLedger`: its own pool and listening connection, as separate frontends
would have), C client tasks spread over them, each taking a lease and giving it back, back
to back, against an account quota of 1000:

- `memory`: today's single-process `Admission` (no ledger): the floor.
- `blocks`: `Admission` with `ClusterTokens`: local while a node holds tokens, a block from
  PostgreSQL when it runs out, idle tokens back every tick.
- `naive`: one `admission_take` of 1 token and one give per lease (two round trips).

Reported per mode and client count: leases/s, p50/p99 of one lease+release, and ledger
round trips per lease (every statement the ledgers sent: takes, gives, renewals, signals).
Then prompt reclaim: one node holds the whole quota idle, the other asks for one lease; the
latency of that lease (a grant of nothing, the `ask`, the peer's give and `ret`, a grant).
Then the scaling limit's bucket: the latency of one `ClusterBurst.take` (the round trip a
new environment pays in cluster mode).

Prints a JSON document; `bench.run_all` collects it into bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import psycopg

from lambent.clock import SystemClock
from lambent.concurrency.admission import Admission, Lease
from lambent.concurrency.burst import ClusterBurst
from lambent.concurrency.ledger import SignalKind, SignalListener, pool_key
from lambent.concurrency.pg_ledger import PgLedger
from lambent.concurrency.tokens import ClusterTokens

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
ACCOUNT = "123456789012"
QUOTA = 1000
WARMUP_S = 0.3

LeaseOnce = Callable[[int], Awaitable[None]]  # client index -> one lease taken and given


@asynccontextmanager
async def schema(base: str) -> AsyncIterator[str]:
    name = "bench_" + secrets.token_hex(4)
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{name}" CASCADE')


class Counting:
    """A ledger that counts the round trips it makes (the PostgreSQL statements sent)."""

    def __init__(self, inner: PgLedger) -> None:
        self.inner = inner

    async def take(self, node: str, pool: str, want: int, capacity: int, lease_s: float) -> int:
        STATEMENTS[0] += 1
        return await self.inner.take(node, pool, want, capacity, lease_s)

    async def give(self, node: str, pool: str, count: int) -> None:
        STATEMENTS[0] += 1
        await self.inner.give(node, pool, count)

    async def renew(self, node: str, lease_s: float) -> dict[str, int]:
        STATEMENTS[0] += 1
        return await self.inner.renew(node, lease_s)

    async def drop(self, node: str) -> None:
        await self.inner.drop(node)

    async def held(self, pool: str) -> int:
        return await self.inner.held(pool)

    async def burst(self, key: str, capacity: int, rate: float) -> bool:
        STATEMENTS[0] += 1
        return await self.inner.burst(key, capacity, rate)

    async def signal(self, kind: SignalKind, pool: str, node: str) -> None:
        STATEMENTS[0] += 1
        await self.inner.signal(kind, pool, node)

    def subscribe(self, listener: SignalListener) -> None:
        self.inner.subscribe(listener)

    async def close(self) -> None:
        await self.inner.close()


STATEMENTS = [0]


def admission(tokens: ClusterTokens | None) -> Admission:
    return Admission(QUOTA, lambda a, f: None, lambda a: 0, tokens=tokens)


async def measure(base: str, once: LeaseOnce, clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    counting = False
    stop = False

    async def client(i: int) -> int:
        done = 0
        while not stop:
            began = time.perf_counter()
            await once(i)
            if counting:
                latencies.append(time.perf_counter() - began)
                done += 1
        return done

    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    await asyncio.sleep(WARMUP_S)
    before = STATEMENTS[0]
    counting = True
    began = time.perf_counter()
    await asyncio.sleep(seconds)
    counting = False
    elapsed = time.perf_counter() - began
    after = STATEMENTS[0]
    stop = True
    done = sum(await asyncio.gather(*tasks))
    latencies.sort()
    return {
        "clients": clients,
        "leases_per_s": round(done / elapsed),
        "p50_us": round(statistics.median(latencies) * 1e6, 1) if latencies else None,
        "p99_us": round(latencies[int(len(latencies) * 0.99)] * 1e6, 1) if latencies else None,
        "ledger_round_trips_per_lease": round((after - before) / done, 4) if done else None,
    }


async def run_memory(base: str, clients: int, seconds: float) -> dict[str, Any]:
    adm = admission(None)

    async def once(_: int) -> None:
        taken = await adm.acquire(ACCOUNT, "f")
        assert isinstance(taken, Lease), taken
        await asyncio.sleep(0)  # the invocation: one turn of the loop
        adm.give(taken)

    return await measure(base, once, clients, seconds)


async def run_blocks(base: str, clients: int, seconds: float, nodes: int) -> dict[str, Any]:
    async with schema(base) as url:
        ledgers = [Counting(await PgLedger.open(url, max_size=3)) for _ in range(nodes)]
        tokens = [ClusterTokens(ledger, f"n{i}", SystemClock()) for i, ledger in enumerate(ledgers)]
        for t in tokens:
            await t.start()
        adms = [admission(t) for t in tokens]
        try:

            async def once(i: int) -> None:
                adm = adms[i % nodes]
                taken = await adm.acquire(ACCOUNT, "f")
                assert isinstance(taken, Lease), taken
                await asyncio.sleep(0)
                adm.give(taken)

            return await measure(base, once, clients, seconds)
        finally:
            for t in tokens:
                await t.close()
            for ledger in ledgers:
                await ledger.close()


async def run_naive(base: str, clients: int, seconds: float, nodes: int) -> dict[str, Any]:
    pool = pool_key("u", ACCOUNT)
    async with schema(base) as url:
        ledgers = [Counting(await PgLedger.open(url, max_size=3)) for _ in range(nodes)]
        try:

            async def once(i: int) -> None:
                ledger, node = ledgers[i % nodes], f"n{i % nodes}"
                got = await ledger.take(node, pool, 1, QUOTA, 10.0)
                assert got == 1
                await asyncio.sleep(0)
                await ledger.give(node, pool, 1)

            return await measure(base, once, clients, seconds)
        finally:
            for ledger in ledgers:
                await ledger.close()


async def reclaim_latency(base: str, samples: int = 20) -> dict[str, Any]:
    async with schema(base) as url:
        ledgers = [await PgLedger.open(url) for _ in range(2)]
        tokens = [ClusterTokens(ledger, f"n{i}", SystemClock()) for i, ledger in enumerate(ledgers)]
        for t in tokens:
            await t.start()
        adms = [admission(t) for t in tokens]
        took: list[float] = []
        try:
            for i in range(samples):
                holder, asker = adms[i % 2], adms[(i + 1) % 2]
                leases = [await holder.acquire(ACCOUNT, "f") for _ in range(QUOTA)]
                for lease in leases:
                    assert isinstance(lease, Lease)
                    holder.give(lease)  # idle on the holder now
                began = time.perf_counter()
                got = await asker.acquire(ACCOUNT, "f")
                took.append(time.perf_counter() - began)
                assert isinstance(got, Lease), got
                asker.give(got)
            took.sort()
            return {
                "samples": samples,
                "p50_ms": round(statistics.median(took) * 1e3, 2),
                "max_ms": round(took[-1] * 1e3, 2),
            }
        finally:
            for t in tokens:
                await t.close()
            for ledger in ledgers:
                await ledger.close()


async def burst_latency(base: str, samples: int = 500) -> dict[str, Any]:
    async with schema(base) as url:
        ledger = await PgLedger.open(url, max_size=2)
        try:
            burst = ClusterBurst(ledger, 1_000_000, 10.0)
            took: list[float] = []
            for i in range(samples):
                began = time.perf_counter()
                await burst.take(ACCOUNT, f"f{i % 50}")
                took.append(time.perf_counter() - began)
            took.sort()
            return {
                "samples": samples,
                "p50_us": round(statistics.median(took) * 1e6, 1),
                "p99_us": round(took[int(len(took) * 0.99)] * 1e6, 1),
            }
        finally:
            await ledger.close()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    levels = [int(c) for c in args.clients.split(",") if c]
    out: dict[str, Any] = {"nodes": args.nodes, "quota": QUOTA, "seconds": args.seconds}
    for mode in ("memory", "blocks", "naive"):
        rows = []
        for clients in levels:
            if mode == "memory":
                row = await run_memory(args.database, clients, args.seconds)
            elif mode == "blocks":
                row = await run_blocks(args.database, clients, args.seconds, args.nodes)
            else:
                row = await run_naive(args.database, clients, args.seconds, args.nodes)
            print(mode, row, file=sys.stderr, flush=True)
            rows.append(row)
        out[mode] = rows
    out["reclaim_from_peer"] = await reclaim_latency(args.database)
    print("reclaim", out["reclaim_from_peer"], file=sys.stderr, flush=True)
    out["burst_take"] = await burst_latency(args.database)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default="1,10,100")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--database", default=DEFAULT_URL)
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
