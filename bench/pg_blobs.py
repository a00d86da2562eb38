"""Blob throughput: a 50 MB zip put and read on PostgreSQL against local files, one run.

    python -m bench.pg_blobs [--size-mb 50] [--rounds 5]
        [--database postgresql://postgres@127.0.0.1:5432/test]

Each round puts new random bytes (a zip is incompressible too) of the given size and reads
them back, through the same `Blobs` interface the server uses: `FileBlobs` in a temporary
directory (fsync'd; reads come from the page cache) and `PgBlobs` on a fresh schema of its
own (1 MiB chunks, one transaction, `synchronous_commit` on; dropped afterwards). A third
row is what a node without the code pays once: `BlobStore.fetch`, the read from PostgreSQL,
the SHA-256 check and the write into its local cache.

Every call runs on a `BlockingWork` thread, as in the server, while a task on the event
loop ticks every millisecond: its worst lateness during the calls is reported, the stall
other requests would see (hashing is not in put's time: the server hashes once for both),
beside its worst lateness while the thread only sleeps (`idle_thread`: the machine's own
noise). On the loop itself, each call would stall it for its whole duration.

Prints a JSON document; `bench.run_all` collects it into bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import psycopg

from lambent.blobs.files import FileBlobs
from lambent.blobs.interface import Blobs
from lambent.blobs.postgres import CODE, PgBlobs, migrate_schema, open_blocking_pool
from lambent.blobs.store import BlobStore
from lambent.blocking import BlockingWork

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
T = TypeVar("T")


@contextmanager
def postgres(base: str) -> Iterator[Blobs]:
    schema = "bench_" + secrets.token_hex(4)
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    try:
        asyncio.run(migrate_schema(url))
        pool = open_blocking_pool(url, max_size=2)
        try:
            yield PgBlobs(pool, CODE)
        finally:
            pool.close()
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def files(_: str) -> Iterator[Blobs]:
    with tempfile.TemporaryDirectory(prefix="lambent-bench-blobs-") as tmp:
        yield FileBlobs(Path(tmp) / "blobs", Path(tmp) / "tmp")


async def timed(work: BlockingWork, fn: Callable[..., T], *args: Any) -> tuple[T, float, float]:
    """fn(*args) on a pool thread: its result, seconds, and the loop's worst lateness (ms)."""
    worst = 0.0
    done = False

    async def tick() -> None:
        nonlocal worst
        while not done:
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            worst = max(worst, time.perf_counter() - t0 - 0.001)

    ticker = asyncio.create_task(tick())
    start = time.perf_counter()
    result = await work.run(fn, *args)
    elapsed = time.perf_counter() - start
    done = True
    await ticker
    return result, elapsed, worst * 1000


def summary(size: int, seconds: list[float], lags: list[float]) -> dict[str, Any]:
    mb = size / 1e6
    return {
        "median_s": round(statistics.median(seconds), 3),
        "median_mb_s": round(mb / statistics.median(seconds)),
        "best_mb_s": round(mb / min(seconds)),
        "loop_lag_ms_median": round(statistics.median(lags), 1),  # of each call's worst
        "loop_lag_ms_worst": round(max(lags), 1),
    }


async def measure(blobs: Blobs, size: int, rounds: int, cache: Path | None) -> dict[str, Any]:
    work = BlockingWork()
    rows: dict[str, tuple[list[float], list[float]]] = {}

    def note(what: str, seconds: float, lag: float) -> None:
        rows.setdefault(what, ([], []))[0].append(seconds)
        rows[what][1].append(lag)

    try:
        for i in range(rounds):
            _, seconds, lag = await timed(work, time.sleep, 0.3)  # the machine's own noise
            note("idle_thread", seconds, lag)
            data = os.urandom(size)
            sha = hashlib.sha256(data).hexdigest()
            _, seconds, lag = await timed(work, blobs.put, sha, data)
            note("put", seconds, lag)
            got, seconds, lag = await timed(work, blobs.get, sha)
            assert got == data
            note("get", seconds, lag)
            if cache is not None:
                node = BlobStore(cache / str(i), max_unzipped=1 << 40, shared=blobs)
                _, seconds, lag = await timed(work, node.fetch, sha)
                note("fetch_and_cache", seconds, lag)
    finally:
        work.close()
    return {what: summary(size, s, lag) for what, (s, lag) in rows.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size-mb", type=int, default=50)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--database", default=DEFAULT_URL)
    args = p.parse_args(argv)
    size = args.size_mb * 1024 * 1024
    results: dict[str, Any] = {}
    for name, opener in (("files", files), ("postgres", postgres)):
        with opener(args.database) as blobs, tempfile.TemporaryDirectory() as cache:
            shared = Path(cache) if name == "postgres" else None
            results[name] = asyncio.run(measure(blobs, size, args.rounds, shared))
        print(f"{name:8} {results[name]}", file=sys.stderr, flush=True)
    print(json.dumps({"bench": "pg_blobs", "size_bytes": size, "results": results}, indent=2))


if __name__ == "__main__":
    main()
