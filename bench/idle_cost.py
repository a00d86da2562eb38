"""What functions that are never invoked cost: processes, memory, ListFunctions latency.

    python -m bench.idle_cost [--functions 10000] [--idle 600] [--threads 4]
                              [--server-arg=--template-budget=256 ...]

Against a real `lambent serve` (namespaces sandbox when root), through boto3:
  1. 10 functions: ListFunctions latency (first page, p50 of 20 calls): the baseline;
  2. `--functions` more, created by `--threads` clients, each waited for until Active;
     then processes (the server and everything below it), their total PSS, the server's
     own PSS, the templates kept, and ListFunctions latency again (first page, and one
     walk through every page);
  3. nothing for `--idle` seconds, sampled every minute; then the same measurements.
Targets (issue 8 §1.15): after 10 minutes idle, <= 50 processes and <= 1 GB in total for
10,000 functions; ListFunctions as fast as with 10 functions. Prints one JSON document;
progress goes to stderr.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, http_get, lambda_role, start_server

from bench.loadgen import percentile

HANDLER = "def handler(event, context):\n    return event\n"
ZIP = python_zip(HANDLER)


def progress(message: str) -> None:
    print(f"[idle_cost {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [root], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def footprint(server: ServerProcess) -> dict[str, Any]:
    pids = tree(server.proc.pid)
    total = sum(pss_kb(pid) for pid in pids)
    _, body = http_get(f"{server.endpoint}/_lambent/stats")
    cache = json.loads(body).get("template_cache", {})
    return {
        "processes": len(pids),
        "pss_total_mb": round(total / 1024, 1),
        "server_pss_mb": round(pss_kb(server.proc.pid) / 1024, 1),
        "templates_kept": cache.get("kept"),
        "templates_memory_mb": cache.get("memory_mb"),
        "template_counters": {
            k: cache.get(k) for k in ("started", "evicted", "expired", "awaited_by_spawns")
        },
    }


def list_latency(server: ServerProcess, calls: int = 20) -> dict[str, Any]:
    lam = server.client("lambda")
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        lam.list_functions()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return {"first_page_p50_ms": round(percentile(samples, 50), 2)}


def walk_all(server: ServerProcess) -> dict[str, Any]:
    lam = server.client("lambda")
    began = time.perf_counter()
    count = 0
    for page in lam.get_paginator("list_functions").paginate():
        count += len(page["Functions"])
    return {"functions": count, "walk_s": round(time.perf_counter() - began, 2)}


def create_many(server: ServerProcess, role: str, names: list[str], threads: int) -> float:
    def worker(chunk: list[str]) -> None:
        lam = server.client("lambda")
        for name in chunk:
            lam.create_function(
                FunctionName=name,
                Runtime="python3.11",
                Role=role,
                Handler="app.handler",
                Code={"ZipFile": ZIP},
            )

    began = time.perf_counter()
    chunks = [names[i::threads] for i in range(threads)]
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for done in pool.map(worker, chunks):
            del done
    wait_active(server, names)
    return time.perf_counter() - began


def wait_active(server: ServerProcess, names: list[str], bound_s: float = 3600) -> None:
    lam = server.client("lambda")
    todo = list(names)
    deadline = time.monotonic() + bound_s

    def active(name: str) -> bool:
        return bool(lam.get_function_configuration(FunctionName=name)["State"] == "Active")

    while todo and time.monotonic() < deadline:
        todo = [n for n in todo if not active(n)]
        if todo:
            time.sleep(1)
    if todo:
        raise TimeoutError(f"{len(todo)} functions never turned Active")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--functions", type=int, default=10000)
    p.add_argument("--idle", type=float, default=600.0, help="seconds of idleness")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--server-arg", action="append", default=[], help="passed to serve")
    args = p.parse_args()
    report: dict[str, Any] = {
        "benchmark": "idle_cost",
        "functions": args.functions,
        "idle_s": args.idle,
        "server_args": args.server_arg,
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
    }
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as tmp:
        server = start_server(Path(tmp), extra_args=list(args.server_arg))
        try:
            role = lambda_role(server, "bench-idle")
            create_many(server, role, [f"base-{i}" for i in range(10)], 1)
            report["with_10"] = {**list_latency(server), **footprint(server)}
            progress(f"10 functions: {report['with_10']}")
            names = [f"idle-{i:05d}" for i in range(args.functions)]
            took = create_many(server, role, names, args.threads)
            report["created_per_s"] = round(args.functions / took, 1)
            report["after_create"] = {
                **list_latency(server),
                **walk_all(server),
                **footprint(server),
            }
            progress(f"{args.functions} created in {took:.0f} s: {report['after_create']}")
            samples = []
            began = time.monotonic()
            while time.monotonic() - began < args.idle:
                time.sleep(min(60.0, args.idle - (time.monotonic() - began)))
                sample = {"after_s": round(time.monotonic() - began), **footprint(server)}
                samples.append(sample)
                progress(f"idle: {sample}")
            report["idle_samples"] = samples
            report["after_idle"] = {**list_latency(server), **footprint(server)}
        finally:
            server.stop()
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
