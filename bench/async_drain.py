"""Async drain rate against a function's reserved concurrency, and the restart case.

    python -m bench.async_drain [--cases 2:0.05,10:0.1,20:0.5] [--seconds 8]
        [--sandbox auto|process|namespaces] [--restart-events 300] [--database URL]

Issue 8's targets: with reserved concurrency R and a handler that runs d seconds, the
queue drains at >= 0.8 * R / d events/s; and after a SIGKILL mid-way through 300 events
with reserved concurrency 2, every accepted event is delivered within 30 s of the restart.

For each (R, d):
1. a function whose handler sleeps d seconds gets reserved concurrency R; R environments
   are warmed by R concurrent sync invokes;
2. baseline, same run: the same number of sync invokes from R clients back to back (what
   the function can do at concurrency R through the whole invoke path);
3. N = R / d * seconds Event invokes are accepted (32 clients), and the queue file is
   watched until it is empty. Reported: events/s from the first acceptance to the last
   settle (acceptance and cold starts included), and the steady rate over the middle 80%
   of the drain, each beside the ideal R / d and the sync baseline.

The restart case runs on the process sandbox: a SIGKILLed server leaves a namespaces
sandbox's environments behind (issue 8 §1.8 reaps them; until then this bench would too).

With `--database URL` the servers keep everything durable in PostgreSQL (a schema of the
run's own), so the drain and the restart run on the PostgreSQL queue (issue 9's pollers).

Prints a JSON document; `bench.run_all` collects it into bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role, start_server

from bench.httpclient import Connection
from bench.loadgen import Target, run_load, target_for
from lambent.auth.sigv4 import sign_headers

HANDLER = """import time

def handler(event, context):
    time.sleep(event["s"])
    return "ok"
"""
ACCEPTORS = 32


# With --database: the PostgreSQL URL (on a schema of this run's own) the servers use.
DATABASE: str | None = None


def left(data_dir: Path) -> int:
    """Events in the server's queue not yet settled for good (read-only reader): its
    queue file, or PostgreSQL's queue_events with --database."""
    if DATABASE is not None:
        import psycopg

        with psycopg.connect(DATABASE, autocommit=True) as pg:
            row = pg.execute("SELECT count(*) FROM queue_events").fetchone()
            return int(row[0]) if row else 0
    path = data_dir / "queue.db"
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])


def server_args(*args: str) -> list[str]:
    return [*args, *(["--database", DATABASE] if DATABASE is not None else [])]


def event_headers(target: Target, body: bytes) -> dict[str, str]:
    headers = {
        "host": f"{target.host}:{target.port}",
        "content-type": "application/json",
        "x-amz-invocation-type": "Event",
    }
    return sign_headers(
        method="POST",
        url_path=target.path,
        query="",
        headers=headers,
        body=body,
        access_key=target.access_key,
        secret=target.secret,
        region=target.region,
        service="lambda",
    )


async def accept(target: Target, body: bytes, count: int) -> None:
    """`count` Event invokes from ACCEPTORS keep-alive clients; every one must get 202."""

    async def client(n: int) -> None:
        conn = await Connection.open(target.host, target.port)
        try:
            for _ in range(n):
                reply = await conn.request("POST", target.path, event_headers(target, body), body)
                if reply.status != 202:
                    raise RuntimeError(f"Event invoke answered {reply.status}: {reply.body!r}")
        finally:
            await conn.close()

    shares = [count // ACCEPTORS + (1 if i < count % ACCEPTORS else 0) for i in range(ACCEPTORS)]
    await asyncio.gather(*(client(n) for n in shares if n))


def watch(
    data_dir: Path, total: int, bound_s: float, accepted: Callable[[], bool] = lambda: True
) -> list[tuple[float, int]]:
    """(time, events left) every 20 ms until every event was accepted and the queue is
    empty (bounded against a hang)."""
    samples: list[tuple[float, int]] = []
    deadline = time.monotonic() + bound_s
    while True:
        done = accepted()  # read before the count: an empty queue then means drained
        n = left(data_dir)
        samples.append((time.perf_counter(), n))
        if n == 0 and done:
            return samples
        if time.monotonic() > deadline:
            raise TimeoutError(f"{n} of {total} events still queued after {bound_s} s")
        time.sleep(0.02)


def steady_rate(samples: list[tuple[float, int]]) -> float:
    """Events/s from the backlog's peak down to a tenth of it (acceptance and cold starts
    are over by then; the tail, where fewer than R events are left, is left out)."""
    peak_at = max(range(len(samples)), key=lambda i: samples[i][1])
    tail = samples[peak_at:]
    peak = tail[0][1]
    start = next((t, n) for t, n in tail if n <= 0.9 * peak)
    end = next((t, n) for t, n in tail if n <= 0.1 * peak)
    return (start[1] - end[1]) / (end[0] - start[0]) if end[0] > start[0] else float("nan")


def make_function(server: ServerProcess, name: str, reserved: int) -> Any:
    lam = server.client("lambda", max_pool_connections=max(10, reserved))
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=lambda_role(server, "drain-role"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(HANDLER)},
        MemorySize=256,
        Timeout=60,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    return lam


def warm_invoke(lam: Any, name: str, body: bytes, tries: int = 20) -> None:
    """A sync invoke that retries a throttle: on PostgreSQL the first invokes after a
    reservation may find no admission token block on the node yet (cluster admission)."""
    for _ in range(tries - 1):
        try:
            lam.invoke(FunctionName=name, Payload=body)
            return
        except lam.exceptions.TooManyRequestsException:
            time.sleep(0.1)
    lam.invoke(FunctionName=name, Payload=body)


def drain_case(
    server: ServerProcess, reserved: int, duration_s: float, seconds: float
) -> dict[str, Any]:
    name = f"drain-{reserved}-{int(duration_s * 1000)}ms"
    lam = make_function(server, name, reserved)
    body = json.dumps({"s": duration_s}).encode()
    with ThreadPoolExecutor(reserved) as pool:  # R environments, warm
        list(pool.map(lambda _: warm_invoke(lam, name, body), range(reserved)))
    ideal = reserved / duration_s
    count = max(4 * reserved, round(ideal * seconds))
    key, secret = server.credentials()
    target = target_for(server.endpoint, name, key, secret)
    sync = asyncio.run(run_load(target, body, reserved, count))
    began = time.perf_counter()
    with ThreadPoolExecutor(1) as pool:
        accepting = pool.submit(asyncio.run, accept(target, body, count))
        bound = max(300.0, 20 * count / ideal)
        samples = watch(server.data_dir, count, bound, accepted=accepting.done)
        accepting.result()
    overall = count / (samples[-1][0] - began)
    steady = steady_rate(samples)
    return {
        "reserved": reserved,
        "handler_s": duration_s,
        "events": count,
        "ideal_per_s": round(ideal, 1),
        "target_per_s": round(0.8 * ideal, 1),
        "sync_baseline_per_s": sync.per_second,
        "async_overall_per_s": round(overall, 1),
        "async_steady_per_s": round(steady, 1),
        "steady_vs_ideal": round(steady / ideal, 3),
        "met": steady >= 0.8 * ideal,
    }


def restart_case(events: int, reserved: int = 2, duration_s: float = 0.05) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        args = server_args("--sandbox", "process", "--log-level", "WARNING")
        server = start_server(data, extra_args=args)
        try:
            make_function(server, "restart", reserved)
            key, secret = server.credentials()
            target = target_for(server.endpoint, "restart", key, secret)
            asyncio.run(accept(target, json.dumps({"s": duration_s}).encode(), events))
            deadline = time.monotonic() + 300
            while left(data) > events // 2:
                if time.monotonic() > deadline:
                    raise TimeoutError("half the events were never delivered before the kill")
                time.sleep(0.01)
        finally:
            server.stop(sig=signal.SIGKILL)
        at_kill = left(data)
        began = time.perf_counter()
        restarted = start_server(data, extra_args=args)
        try:
            ready = time.perf_counter() - began
            samples = watch(data, at_kill, bound_s=300.0)
        finally:
            restarted.stop()
    return {
        "events": events,
        "reserved": reserved,
        "handler_s": duration_s,
        "left_at_kill": at_kill,
        "server_ready_s": round(ready, 2),
        "delivered_after_restart_s": round(samples[-1][0] - began, 2),
        "target_s": 30.0,
        "met": samples[-1][0] - began <= 30.0,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cases", default="2:0.05,10:0.1,20:0.5", help="R:d pairs")
    p.add_argument("--seconds", type=float, default=8.0, help="ideal drain time per case")
    p.add_argument("--sandbox", default="auto")
    p.add_argument("--restart-events", type=int, default=300)
    p.add_argument(
        "--database",
        help="run the servers on PostgreSQL (a libpq URL; a schema of the run's own is made "
        "in that database and dropped after)",
    )
    args = p.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    # Each part on a schema of its own with --database: the restart case's first server
    # must be the one that makes the account (and writes the credentials file).
    with on_schema(args.database):
        drains = run_drains(args)
    with on_schema(args.database):
        restart = restart_case(args.restart_events)
    doc = {
        "benchmark": "async_drain",
        "sandbox": args.sandbox,
        "queue": "postgres" if args.database else "sqlite",
        "drain": drains,
        "restart": restart,
    }
    json.dump(doc, sys.stdout, indent=2)
    print()


@contextlib.contextmanager
def on_schema(base: str | None) -> Iterator[None]:
    """With a database URL: DATABASE is a fresh schema of it for the block, dropped after."""
    global DATABASE
    if base is None:
        yield
        return
    import secrets
    from urllib.parse import quote

    import psycopg

    schema = "bench_" + secrets.token_hex(4)
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    DATABASE = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    try:
        yield
    finally:
        DATABASE = None
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run_drains(args: argparse.Namespace) -> list[dict[str, Any]]:
    cases = [(int(r), float(d)) for r, d in (c.split(":") for c in args.cases.split(","))]
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(
            Path(tmp), extra_args=server_args("--sandbox", args.sandbox, "--log-level", "WARNING")
        )
        try:
            return [drain_case(server, r, d, args.seconds) for r, d in cases]
        finally:
            server.stop()


if __name__ == "__main__":
    main()
