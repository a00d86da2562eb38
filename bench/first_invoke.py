"""The first invoke right after `function_active_v2`: what a developer's cold start costs.

    python -m bench.first_invoke [--functions 30] [--warm 20] [--memory 1769]

Through boto3 end to end, against a real `lambent serve` (namespaces sandbox when root):
  1. a warm function, invoked until its environment exists;
  2. for each of `--functions` fresh functions: CreateFunction, the `function_active_v2`
     waiter, then the first invoke (timed), then `--warm` invokes of the warm function
     (timed: the baseline, measured in the same run, under the same load);
  3. first minus warm: the p50/p95 of the first invokes minus the p50 of the warm ones,
     and the median of each first invoke minus the median of the warm invokes around it.
Also REPORT's Init Duration of the first invokes, and the server's template counters (how
many first invokes had to wait for a template start: 0 is the point).
Target (issue 8 §1.5): first minus warm <= 15 ms p50. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, http_get, lambda_role, start_server

from bench.loadgen import percentile

HANDLER = "def handler(event, context):\n    return event\n"


def create_active(server: ServerProcess, name: str, role: str, memory_mb: int) -> None:
    lam = server.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip(HANDLER)},
        MemorySize=memory_mb,
        Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)


def timed_invoke(lam: Any, name: str) -> tuple[float, str]:
    began = time.perf_counter()
    resp = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    elapsed = (time.perf_counter() - began) * 1000
    resp["Payload"].read()
    if "FunctionError" in resp:
        raise RuntimeError(f"{name}: {resp['FunctionError']}")
    return elapsed, base64.b64decode(resp["LogResult"]).decode()


def init_duration(report: str) -> float | None:
    for part in report.split("\t"):
        if part.startswith("Init Duration"):
            return float(part.split()[2])
    return None


def template_counters(server: ServerProcess) -> dict[str, Any]:
    _, body = http_get(f"{server.endpoint}/_lambent/stats")
    cache: dict[str, Any] = json.loads(body).get("template_cache", {})
    return cache


def stats(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50_ms": round(percentile(ordered, 50), 2),
        "p95_ms": round(percentile(ordered, 95), 2),
        "max_ms": round(ordered[-1], 2),
    }


def run(server: ServerProcess, functions: int, warm_each: int, memory_mb: int) -> dict[str, Any]:
    role = lambda_role(server, "bench-first-invoke")
    lam = server.client("lambda")
    create_active(server, "warm", role, memory_mb)
    for _ in range(20):
        timed_invoke(lam, "warm")
    before = template_counters(server)
    firsts, warms, inits, pairs = [], [], [], []
    for n in range(functions):
        name = f"first-{n}"
        create_active(server, name, role, memory_mb)
        first, report = timed_invoke(lam, name)
        around = [timed_invoke(lam, "warm")[0] for _ in range(warm_each)]
        firsts.append(first)
        warms.extend(around)
        pairs.append(first - statistics.median(around))
        init = init_duration(report)
        if init is not None:
            inits.append(init)
    after = template_counters(server)
    warm_p50 = percentile(sorted(warms), 50)
    first_ms = stats(firsts)
    return {
        "functions": functions,
        "first_invoke": first_ms,
        "warm_invoke": {**stats(warms), "n": len(warms)},
        "first_minus_warm": {
            "p50_ms": round(first_ms["p50_ms"] - warm_p50, 2),
            "p95_ms": round(first_ms["p95_ms"] - warm_p50, 2),
            "median_of_pairs_ms": round(statistics.median(pairs), 2),
            "target_p50_ms": 15.0,
        },
        "init_duration": stats(inits) if inits else None,
        "templates": {
            key: after.get(key, 0) - before.get(key, 0)
            for key in ("started", "awaited_by_spawns", "evicted", "expired")
        },
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--functions", type=int, default=30)
    p.add_argument("--warm", type=int, default=20, help="warm invokes after each first one")
    p.add_argument("--memory", type=int, default=1769, help="MemorySize (1769 = one vCPU)")
    p.add_argument("--sandbox", default="auto")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-first-") as tmp:
        server = start_server(Path(tmp), extra_args=["--sandbox", args.sandbox])
        try:
            result = run(server, args.functions, args.warm, args.memory)
            sandbox = json.loads(http_get(f"{server.endpoint}/_lambent/stats")[1])["sandbox"]
        finally:
            server.stop()
    load = os.getloadavg()[0]
    doc = {"benchmark": "first_invoke", "sandbox": sandbox, "loadavg_1m": round(load, 2)}
    json.dump({**doc, **result}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
