"""Warm invoke overhead and throughput, end to end over HTTP, with a same-run baseline.

    python -m bench.warm_invoke [--requests 2000] [--sandbox auto|process|namespaces]

1. Starts a real `lambent serve` on a temp data dir and creates a no-op Python function.
2. Baseline: the same handler called in-process in this run (what the function itself
   costs, so `overhead = end-to-end - baseline`).
3. Warm invokes at concurrency 1, 10 and 100 through the signed load generator:
   requests/s and latency percentiles.
4. First-invoke latency after a create (cold start seen by a client), over fresh functions.

Prints a JSON document; `bench.run_all` collects it into bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, http_get, lambda_role, start_server

from bench.loadgen import LoadResult, percentile, run_load, target_for

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


async def warm_runs(server: ServerProcess, requests: int) -> list[LoadResult]:
    """Each concurrency level is warmed first (its environments exist), then measured."""
    key, secret = server.credentials()
    target = target_for(server.endpoint, "noop", key, secret)
    out = []
    for concurrency, scale in ((1, 1), (10, 5), (100, 10)):
        await run_load(target, b"{}", concurrency, max(300, concurrency * 10))  # warm-up
        out.append(await run_load(target, b"{}", concurrency, requests * scale))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--requests", type=int, default=2000)
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
            results = asyncio.run(warm_runs(server, args.requests))
            cold = {
                "immediately": first_invokes(
                    server, arn, args.cold, args.memory, template_first=False
                ),
                "template_ready": first_invokes(
                    server, arn, args.cold, args.memory, template_first=True
                ),
            }
        finally:
            server.stop()
    base_ms = base / 1e6
    doc = {
        "benchmark": "warm_invoke",
        "sandbox": args.sandbox,
        "memory_mb": args.memory,
        "baseline_in_process_ns": round(base, 1),
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
