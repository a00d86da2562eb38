"""Warm invoke overhead, tail latency and throughput, end to end over HTTP, with same-run
baselines.

    python -m bench.warm_invoke [--tail-requests 10000] [--requests 2000] [--cold 20]
                                [--levels 1,10,100] [--sandbox auto|process|namespaces]

1. Starts a real `lambent serve` on a temp data dir and creates a no-op Python function.
2. Baseline: the same handler called in-process in this run (what the function itself
   costs, so `overhead = end-to-end - baseline`).
3. Tail at concurrency 1: `--tail-requests` warm invokes (p50, p99, p99.9, max), in
   `--rounds` rounds alternating with as many requests to the loopback floor
   (`bench/loopback.py`: a process that answers at once), by the same client: the floor's
   tail is what the machine adds, under the same load at the same time. Beside them: the
   machine's load average, the server's full (generation 2) collections meanwhile, and
   each outlier over 3 ms attributed to the machine or the code (`bench/attribution.py`:
   run-queue delay of the server's loop thread, the runtime and the client).
4. Warm invokes at each of `--levels` through the signed load generator: requests/s and
   latency percentiles.
5. First-invoke latency after a create (cold start seen by a client), over fresh functions.

Prints a JSON document; `bench.run_all` collects it into bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, free_port, http_get, lambda_role, start_server

from bench import attribution, loopback
from bench.loadgen import LoadResult, measure, percentile, run_load, summarize, target_for

HANDLER = "def handler(event, context):\n    return event\n"


def baseline_ns(iterations: int = 200_000) -> float:
    """Median per-call cost of the handler called directly, in nanoseconds."""
    scope: dict[str, Any] = {}
    exec(HANDLER, scope)
    handler = scope["handler"]
    event: dict[str, Any] = {}
    samples = []
    for _ in range(5):
        began = time.perf_counter_ns()
        for _ in range(iterations):
            handler(event, None)
        samples.append((time.perf_counter_ns() - began) / iterations)
    return statistics.median(samples)


def create_function(server: ServerProcess, name: str, role_arn: str, memory_mb: int = 1769) -> None:
    lam = server.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role_arn,
        Handler="app.handler",
        Code={"ZipFile": python_zip(HANDLER)},
        MemorySize=memory_mb,
        Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)


def role(server: ServerProcess) -> str:
    return lambda_role(server, "bench-role")


def template_ready(server: ServerProcess, name: str, timeout: float = 30.0) -> None:
    """Wait (bounded) until the server reports the function's template as running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, body = http_get(f"{server.endpoint}/_lambent/stats")
        if any(f"/{name}/$LATEST/" in key for key in json.loads(body)["templates"]):
            return
        time.sleep(0.01)
    raise TimeoutError(f"no template for {name}")


def first_invokes(
    server: ServerProcess, role_arn: str, count: int, memory_mb: int, *, template_first: bool
) -> dict[str, float]:
    """First invoke after CreateFunction's waiter says Active: right away (the template may
    still be starting), or once the function's template is up (the fork alone)."""
    lam = server.client("lambda")
    times: list[float] = []
    inits: list[float] = []
    for n in range(count):
        name = f"cold-{'t' if template_first else 'i'}-{n}"
        create_function(server, name, role_arn, memory_mb)
        if template_first:
            template_ready(server, name)
        began = time.perf_counter()
        resp = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
        times.append((time.perf_counter() - began) * 1000)
        report = base64.b64decode(resp["LogResult"]).decode()
        inits.extend(
            float(part.split()[2])
            for part in report.split("\t")
            if part.startswith("Init Duration")
        )
    ms, init = sorted(times), sorted(inits)
    return {
        "count": count,
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "max_ms": round(ms[-1], 2),
        "init_duration_p50_ms": round(percentile(init, 50), 2),
    }


def full_collections(server: ServerProcess) -> int:
    """The server's generation-2 collections so far (its stats page)."""
    _, body = http_get(f"{server.endpoint}/_lambent/stats")
    return int(json.loads(body)["gc"]["collections"][2])


async def tail_c1(server: ServerProcess, floor: str, requests: int, rounds: int) -> dict[str, Any]:
    """Warm invokes at concurrency 1 and the loopback floor, in alternating rounds."""
    key, secret = server.credentials()
    invoke = target_for(server.endpoint, "noop", key, secret)
    bare = target_for(floor, "noop", key, secret)  # signed alike: the client's work is the same
    pid = server.proc.pid
    cpu_before = {p: attribution.cpu_ns(p) for p in attribution.descendants(pid)}
    await run_load(invoke, b"{}", 1, 300)  # warm-up
    await run_load(bare, b"{}", 1, 300)
    probe = attribution.RunQueueProbe(
        pid, attribution.busiest(attribution.descendants(pid), cpu_before)
    )
    per = max(1, requests // rounds)
    got: dict[str, list[float]] = {"invoke": [], "floor": []}
    seconds = {"invoke": 0.0, "floor": 0.0}
    waits: list[int] = []
    load_before = os.getloadavg()
    collections_before = await asyncio.to_thread(full_collections, server)
    for _ in range(rounds):
        for name, target in (("invoke", invoke), ("floor", bare)):
            watch = (probe, waits) if name == "invoke" else None
            latencies, errors, took = await measure(target, b"{}", 1, per, watch)
            if errors:
                raise RuntimeError(f"{errors} failed requests to {name}")
            got[name] += latencies
            seconds[name] += took
    probe.close()
    collections = await asyncio.to_thread(full_collections, server) - collections_before
    inv, flo = (summarize(1, got[n], 0, seconds[n]) for n in ("invoke", "floor"))
    return {
        "requests": len(got["invoke"]),
        "rounds": rounds,
        "invoke": _tail(inv),
        "loopback_floor": _tail(flo),
        "server_full_collections": collections,
        # Outliers over 3 ms whose server loop thread, runtime and client waited on a run
        # queue for at least half the excess ("machine"), and the others ("code").
        "outliers": attribution.attribute(got["invoke"], waits).as_dict(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def _tail(r: LoadResult) -> dict[str, float]:
    return {
        "per_second": r.per_second,
        "p50_ms": r.p50_ms,
        "p90_ms": r.p90_ms,
        "p99_ms": r.p99_ms,
        "p99_9_ms": r.p99_9_ms,
        "max_ms": r.max_ms,
    }


async def warm_runs(server: ServerProcess, requests: int, levels: list[int]) -> list[LoadResult]:
    """Each concurrency level is warmed first (its environments exist), then measured."""
    key, secret = server.credentials()
    target = target_for(server.endpoint, "noop", key, secret)
    out = []
    for concurrency in levels:
        scale = {1: 1, 10: 5}.get(concurrency, 10)
        await run_load(target, b"{}", concurrency, max(300, concurrency * 10))  # warm-up
        out.append(await run_load(target, b"{}", concurrency, requests * scale))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--tail-requests", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--levels", default="1,10,100", help="concurrency levels ('' for none)")
    p.add_argument("--cold", type=int, default=20)
    p.add_argument("--sandbox", default="auto")
    p.add_argument(
        "--memory",
        type=int,
        default=1769,
        help="MemorySize: 1769 MB is one vCPU; at 128 MB the CPU quota (7%% of a CPU) "
        "caps each environment, which is Lambda's behaviour, not Lambent's overhead",
    )
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(
            Path(tmp), extra_args=["--sandbox", args.sandbox, "--log-level", "WARNING"]
        )
        try:
            arn = role(server)
            create_function(server, "noop", arn, args.memory)
            base = baseline_ns()
            try:
                import uvloop

                uvloop.install()
            except ImportError:
                pass
            levels = [int(x) for x in args.levels.split(",") if x]
            with loopback.running(free_port()) as floor:
                tail = asyncio.run(tail_c1(server, floor, args.tail_requests, args.rounds))
            results = asyncio.run(warm_runs(server, args.requests, levels))
            cold = (
                {
                    "immediately": first_invokes(
                        server, arn, args.cold, args.memory, template_first=False
                    ),
                    "template_ready": first_invokes(
                        server, arn, args.cold, args.memory, template_first=True
                    ),
                }
                if args.cold
                else {}
            )
        finally:
            server.stop()
    base_ms = base / 1e6
    doc = {
        "benchmark": "warm_invoke",
        "sandbox": args.sandbox,
        "memory_mb": args.memory,
        "baseline_in_process_ns": round(base, 1),
        "tail_c1": tail,
        "warm": [
            {
                **asdict(r),
                "overhead_p50_ms": round(r.p50_ms - base_ms, 3),
                "overhead_p99_ms": round(r.p99_ms - base_ms, 3),
            }
            for r in results
        ],
        "first_invoke_after_create": cold,
    }
    json.dump(doc, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
