"""Control-plane store operations on PostgreSQL against SQLite, one run.

    python -m bench.pg_store [--ops 2000] [--database postgresql://postgres@127.0.0.1:5432/test]

Through the same `Store` interface the server uses: `SqliteStore` in a temporary directory
and `PostgresStore` on a fresh schema of its own (dropped afterwards). Per backend, on one
event loop: a read (`get`) and a write outside a transaction (`put`: on PostgreSQL its own
short transaction under the writers' advisory lock), a read-modify-write transaction (get,
put), each timed one at a time (median and p99 in ms), then read-modify-write transactions
from 8 tasks at once (transactions/s: writers take turns, so this is the writer's ceiling)
and, on PostgreSQL, the same from two stores on the schema at once (two nodes).

Prints a JSON document; `bench.run_all` collects it into bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

from lambent.store.interface import Store
from lambent.store.postgres import PostgresStore
from lambent.store.sqlite import SqliteStore

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
A = "111111111111"
DOC = {"FunctionName": "f", "Runtime": "python3.12", "MemorySize": 128, "Tags": {"a": "b"}}


async def timed(ops: int, call: Callable[[int], Awaitable[object]]) -> dict[str, float]:
    took: list[float] = []
    for i in range(ops):
        start = time.perf_counter()
        await call(i)
        took.append((time.perf_counter() - start) * 1000)
    took.sort()
    return {
        "p50_ms": round(statistics.median(took), 3),
        "p99_ms": round(took[int(len(took) * 0.99)], 3),
    }


async def rmw(store: Store, key: str) -> None:
    async with store.transaction():
        doc = await store.get("counter", A, key) or {"n": 0}
        await store.put("counter", A, key, {"n": doc["n"] + 1})


async def rate(stores: list[Store], ops: int, tasks: int = 8) -> float:
    per = ops // tasks

    async def worker(store: Store) -> None:
        for _ in range(per):
            await rmw(store, "shared")

    start = time.perf_counter()
    await asyncio.gather(*(worker(stores[i % len(stores)]) for i in range(tasks)))
    return round(per * tasks / (time.perf_counter() - start), 1)


async def measure(
    open_store: Callable[[], Awaitable[Store]], ops: int, nodes: bool
) -> dict[str, Any]:
    store = await open_store()
    try:
        for i in range(200):
            await store.put("fn", A, f"f-{i:05d}", DOC)
        out: dict[str, Any] = {
            "get": await timed(ops, lambda i: store.get("fn", A, f"f-{i % 200:05d}")),
            "put": await timed(ops, lambda i: store.put("fn", A, f"p-{i:05d}", DOC)),
            "transaction_get_put": await timed(ops, lambda i: rmw(store, f"c-{i % 50}")),
            "rmw_per_s_8_tasks": await rate([store], ops),
        }
        if nodes:
            other = await open_store()
            try:
                out["rmw_per_s_8_tasks_two_nodes"] = await rate([store, other], ops)
            finally:
                await other.close()
        return out
    finally:
        await store.close()


async def main_async(ops: int, base: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.db"

        async def sqlite() -> Store:
            return SqliteStore(path)

        result = {"sqlite": await measure(sqlite, ops, nodes=False)}
    schema = "bench_" + secrets.token_hex(4)
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    try:

        async def postgres() -> Store:
            return await PostgresStore.open(url)

        result["postgres"] = await measure(postgres, ops, nodes=True)
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.pg_store", description=__doc__.splitlines()[0])
    p.add_argument("--ops", type=int, default=2000)
    p.add_argument("--database", default=DEFAULT_URL)
    args = p.parse_args(argv)
    result = {
        "benchmark": "pg_store",
        "ops": args.ops,
        **asyncio.run(main_async(args.ops, args.database)),
    }
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
