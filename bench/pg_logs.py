"""Function log lines written per second: the PostgreSQL log store, and SQLite's in the
same run.

    python -m bench.pg_logs [--lines 200000] [--rounds 3] [--message 100]
        [--database postgresql://postgres@127.0.0.1:5432/test]

Each round opens a store as the server does (PostgreSQL on a fresh schema of its own,
dropped afterwards; SQLite in a temporary directory), with its background writer and the
server's default settings (a flush every 50 ms, at once past 20,000 queued lines). The
event loop then emits the lines as invocations do: 10 lines at a time into one of 100
streams over 10 groups (functions), yielding to the loop between bursts of 100 lines,
then awaits the last flush. Reported per backend (medians over the rounds): lines/s from
the first emit to the last line committed (with the time the emitting took, which bounds
it from above), the cost of one emit call on the loop, and the
worst lateness of a 1 ms ticker on the loop meanwhile (what an invoke would wait; the
emitting loop itself is part of it), beside the same ticker on an idle loop for as long
(the machine's own noise). No
line may be dropped: the buffer's bound (500,000) is above the lines emitted.

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
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

from lambent.clock import SystemClock
from lambent.logs.interface import LogStore
from lambent.logs.pg.store import PgLogStore
from lambent.logs.sink import LogEvent
from lambent.logs.store import SqliteLogStore
from lambent.settings import LogSettings

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
ACCOUNT = "123456789012"
GROUPS, STREAMS_PER_GROUP, LINES_PER_EMIT, EMITS_PER_BURST = 10, 10, 10, 10


@asynccontextmanager
async def postgres(base: str) -> AsyncIterator[LogStore]:
    schema = "bench_" + secrets.token_hex(4)
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    store = await PgLogStore.open(url, LogSettings(), SystemClock())
    try:
        yield store
    finally:
        await store.close()
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@asynccontextmanager
async def sqlite(_: str) -> AsyncIterator[LogStore]:
    with tempfile.TemporaryDirectory(prefix="lambent-bench-logs-") as tmp:
        store = SqliteLogStore(Path(tmp) / "logs.db", LogSettings(), SystemClock())
        try:
            yield store
        finally:
            await store.close()


async def ticker(stop: asyncio.Event, worst: list[float]) -> None:
    """The loop's responsiveness: how late a 1 ms sleep wakes, at worst."""
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(0.001)
        worst[0] = max(worst[0], time.perf_counter() - t0 - 0.001)


async def idle_lateness(seconds: float) -> float:
    """The ticker's worst lateness with nothing else running: the machine's own noise."""
    stop, worst = asyncio.Event(), [0.0]
    tick = asyncio.create_task(ticker(stop, worst))
    await asyncio.sleep(seconds)
    stop.set()
    await tick
    return round(worst[0] * 1000, 1)


async def measure(store: LogStore, lines: int, message: str) -> dict[str, Any]:
    keys = [
        (f"/aws/lambda/bench-{g}", f"2026/12/03/[$LATEST]{g:02d}{s:030d}")
        for g in range(GROUPS)
        for s in range(STREAMS_PER_GROUP)
    ]
    stop, worst = asyncio.Event(), [0.0]
    tick = asyncio.create_task(ticker(stop, worst))
    emit_s = 0.0
    emits = lines // LINES_PER_EMIT
    start = time.perf_counter()
    for i in range(emits):
        group, stream = keys[i % len(keys)]
        now_ms = int(time.time() * 1000)
        batch = [LogEvent(now_ms, f"{i}.{j} {message}") for j in range(LINES_PER_EMIT)]
        t0 = time.perf_counter()
        store.emit(ACCOUNT, group, stream, batch)
        emit_s += time.perf_counter() - t0
        if i % EMITS_PER_BURST == EMITS_PER_BURST - 1:
            await asyncio.sleep(0)
    emitted = time.perf_counter() - start
    await store.flush()
    elapsed = time.perf_counter() - start
    stop.set()
    await tick
    assert store.dropped == 0, f"{store.dropped} lines dropped"
    return {
        "lines_per_s": round(emits * LINES_PER_EMIT / elapsed),
        "emit_us": round(emit_s / emits * 1e6, 2),
        # The emitting loop alone (making the lines included); the rest is the last drain.
        "emitted_s": round(emitted, 2),
        "total_s": round(elapsed, 2),
        "loop_lateness_ms": round(worst[0] * 1000, 1),
        "idle_lateness_ms": await idle_lateness(elapsed),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    message = ("x" * args.message)[: max(0, args.message - 12)]
    openers: dict[str, Callable[[str], AbstractAsyncContextManager[LogStore]]] = {
        "postgres": postgres,
        "sqlite": sqlite,
    }
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in openers}
    for _ in range(args.rounds):
        for name, opener in openers.items():
            async with opener(args.database) as store:
                row = await measure(store, args.lines, message)
            rounds[name].append(row)
            print(f"{name:8} {row}", file=sys.stderr, flush=True)
    results = {
        name: {key: statistics.median(r[key] for r in rows) for key in rows[0]}
        for name, rows in rounds.items()
    }
    return {"bench": "pg_logs", "lines": args.lines, "results": results, "rounds": rounds}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lines", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--message", type=int, default=100, help="bytes per line, about")
    p.add_argument("--database", default=DEFAULT_URL)
    args = p.parse_args(argv)
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
