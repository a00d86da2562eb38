"""Warm invokes through a frontend to a worker, beside the all-in-one server, in one run.

    python -m bench.cluster_warm [--requests 5000] [--rounds 5] [--levels 1,10,50]

1. Starts an all-in-one `lambent serve` (SQLite) and a cluster on a fresh PostgreSQL schema:
   1 frontend + 1 worker (`--role`), on this host; creates the same no-op Python function
   on each and warms it.
2. Concurrency 1: `--requests` warm invokes against each, in `--rounds` alternating rounds
   (so both see the same machine at the same time): p50, p99, p99.9, max; the cluster's
   overhead over all-in-one is the difference.
3. Server CPU per warm invoke: CPU time of the server processes and their descendants
   (all-in-one: the server and its environments; cluster: frontend, worker and its
   environments) over the concurrency-1 requests.
4. Throughput at each of `--levels` (requests/s, p50, p99) on both.

Prints a JSON document. Numbers go in docs/SPECIFICATION.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.pg import fresh_schema
from tests.support import ServerProcess, cluster_secret, start_frontend, start_server, start_worker

from bench import attribution
from bench.loadgen import measure, run_load, summarize, target_for
from bench.warm_invoke import create_function, role


def cpu_ns(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for each in [pid, *attribution.descendants(pid)]:
            total += attribution.cpu_ns(each)
    return total


async def c1_rounds(
    servers: dict[str, ServerProcess], pids: dict[str, list[int]], requests: int, rounds: int
) -> dict[str, Any]:
    targets = {}
    for name, server in servers.items():
        key, secret = server.credentials()
        targets[name] = target_for(server.endpoint, "noop", key, secret)
        await run_load(targets[name], b"{}", 1, 500)  # warm-up
    got: dict[str, list[float]] = {name: [] for name in servers}
    seconds = dict.fromkeys(servers, 0.0)
    cpu = dict.fromkeys(servers, 0)
    per = max(1, requests // rounds)
    for _ in range(rounds):
        for name, target in targets.items():
            before = cpu_ns(pids[name])
            latencies, errors, took = await measure(target, b"{}", 1, per)
            cpu[name] += cpu_ns(pids[name]) - before
            if errors:
                raise RuntimeError(f"{errors} failed requests to {name}")
            got[name] += latencies
            seconds[name] += took
    out: dict[str, Any] = {}
    for name in servers:
        r = summarize(1, got[name], 0, seconds[name])
        out[name] = {
            "requests": r.requests,
            "p50_ms": r.p50_ms,
            "p99_ms": r.p99_ms,
            "p99_9_ms": r.p99_9_ms,
            "max_ms": r.max_ms,
            "server_cpu_us_per_invoke": round(cpu[name] / 1000 / r.requests, 1),
        }
    a, c = out["all_in_one"], out["cluster"]
    out["cluster_overhead"] = {
        "p50_ms": round(c["p50_ms"] - a["p50_ms"], 3),
        "p99_ms": round(c["p99_ms"] - a["p99_ms"], 3),
        "cpu_ratio": round(c["server_cpu_us_per_invoke"] / a["server_cpu_us_per_invoke"], 2),
    }
    return out


async def throughput(
    servers: dict[str, ServerProcess], levels: list[int], requests: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, server in servers.items():
        key, secret = server.credentials()
        target = target_for(server.endpoint, "noop", key, secret)
        rows = []
        for level in levels:
            await run_load(target, b"{}", level, max(300, level * 10))
            r = await run_load(target, b"{}", level, requests)
            rows.append(
                {
                    "concurrency": level,
                    "per_second": r.per_second,
                    "p50_ms": r.p50_ms,
                    "p99_ms": r.p99_ms,
                    "errors": r.errors,
                }
            )
        out[name] = rows
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--levels", default="1,10,50")
    p.add_argument("--throughput-requests", type=int, default=5000)
    args = p.parse_args()
    levels = [int(x) for x in args.levels.split(",") if x]
    with ExitStack() as stack, fresh_schema() as url:
        tmp = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="lambent-cluster-bench-"))
        )
        alone = start_server(tmp / "all", extra_args=["--log-level", "WARNING"])
        stack.callback(alone.stop)
        secret = cluster_secret(tmp)
        front = start_frontend(tmp / "frontend", url, secret, extra_args=["--log-level", "WARNING"])
        stack.callback(front.stop)
        worker = start_worker(
            tmp / "worker", url, secret, front.port, extra_args=["--log-level", "WARNING"]
        )
        stack.callback(worker.stop)
        servers = {"all_in_one": alone, "cluster": front}
        pids = {"all_in_one": [alone.proc.pid], "cluster": [front.proc.pid, worker.server.proc.pid]}
        for server in servers.values():
            create_function(server, "noop", role(server), memory_mb=128)
        result = {
            "machine": {
                "cpus": os.cpu_count(),
                "load_average": [round(x, 2) for x in os.getloadavg()],
            },
            "concurrency_1": asyncio.run(c1_rounds(servers, pids, args.requests, args.rounds)),
            "throughput": asyncio.run(throughput(servers, levels, args.throughput_requests)),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
