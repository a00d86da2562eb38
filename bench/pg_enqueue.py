"""Durable async enqueues per second: the PostgreSQL queue, and SQLite's in the same run.

    python -m bench.pg_enqueue [--clients 1,10,100] [--seconds 5] [--payload 256]
        [--database postgresql://postgres@127.0.0.1:5432/test]

Issue 9's target: >= 5,000 durable enqueues/s at 100 clients on PostgreSQL.

Each run opens a queue (PostgreSQL on a fresh schema of its own, dropped afterwards;
SQLite in a temporary directory), then C client tasks on one event loop each enqueue
events back to back for the given time, each waiting for its enqueue to return (durable:
committed with `synchronous_commit` on, or fsync'd with `synchronous=FULL`) before the
next. This is the queue alone, the part of an Event invoke's 202 that waits on storage:
no HTTP. Reported per run: enqueues/s, enqueues per commit (group commit), and the p50
and p99 of one enqueue.

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
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

from lambent.async_invoke.event import Destination, EventState, QueuedEvent
from lambent.async_invoke.postgres import PostgresQueue
from lambent.async_invoke.queue import EventQueue
from lambent.async_invoke.sqlite import SqliteQueue
from lambent.clock import SystemClock

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEST = Destination("123456789012", "arn:aws:lambda:us-east-1:123456789012:function:bench")
WARMUP_S = 0.5


@asynccontextmanager
async def postgres(base: str) -> AsyncIterator[EventQueue]:
    schema = "bench_" + secrets.token_hex(4)
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    queue = await PostgresQueue.open(url, node_id="bench", clock=SystemClock())
    try:
        yield queue
    finally:
        await queue.close()
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@asynccontextmanager
async def sqlite(_: str) -> AsyncIterator[EventQueue]:
    with tempfile.TemporaryDirectory(prefix="lambent-bench-queue-") as tmp:
        queue = SqliteQueue(Path(tmp) / "queue.db")
        try:
            yield queue
        finally:
            await queue.close()


async def measure(
    queue: EventQueue, clients: int, seconds: float, payload: bytes
) -> dict[str, Any]:
    latencies: list[float] = []
    counting = False
    stop = False

    async def client() -> None:
        while not stop:
            now = time.time()
            event = QueuedEvent(
                str(uuid.uuid4()), DEST, payload, EventState(enqueued_at=now), available_at=now
            )
            t0 = time.perf_counter()
            await queue.enqueue(event)
            if counting:
                latencies.append(time.perf_counter() - t0)

    tasks = [asyncio.create_task(client()) for _ in range(clients)]
    await asyncio.sleep(WARMUP_S)
    before = await queue.stats()
    counting = True
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    counting = False
    elapsed = time.perf_counter() - start
    after = await queue.stats()
    stop = True
    await asyncio.gather(*tasks)
    commits = max(1, after.commits - before.commits)
    latencies.sort()
    return {
        "clients": clients,
        "enqueues_per_s": round(len(latencies) / elapsed),
        "per_commit": round(len(latencies) / commits, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    payload = b'{"k": "' + b"x" * max(0, args.payload - 9) + b'"}'
    openers: dict[str, Callable[[str], AbstractAsyncContextManager[EventQueue]]] = {
        "postgres": postgres,
        "sqlite": sqlite,
    }
    results: dict[str, list[dict[str, Any]]] = {}
    for name, opener in openers.items():
        for clients in args.clients:
            async with opener(args.database) as queue:
                row = await measure(queue, clients, args.seconds, payload)
            results.setdefault(name, []).append(row)
            print(f"{name:8} c={clients:<4} {row}", file=sys.stderr, flush=True)
    return {"bench": "pg_enqueue", "payload_bytes": len(payload), "results": results}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", default="1,10,100", type=lambda s: [int(c) for c in s.split(",")])
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--payload", type=int, default=256, help="event payload bytes")
    p.add_argument("--database", default=DEFAULT_URL)
    args = p.parse_args(argv)
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
