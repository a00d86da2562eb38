"""What the access log costs a warm invoke: the same load on two servers, one with
`--access-log` and one without, in alternating rounds so a busy machine's drift hits both.

    python -m bench.access_log [--requests 2000] [--rounds 3]

Each server runs with `--log-format json` and its stderr on a pipe this process drains.
Reported per mode and concurrency (1 and 10): the medians over rounds of invokes/s, p50 and
p99 latency, and the server's CPU time per invoke (utime+stime from /proc/PID/stat over
the measured run), the most direct measure of the added work.

Prints a JSON document; `bench.run_all` collects it into bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.support import ServerProcess, start_server

from bench.loadgen import run_load, target_for
from bench.warm_invoke import create_function, role

MODES = {"off": [], "on": ["--access-log"]}
CONCURRENCY = (1, 10)


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def measure(server: ServerProcess, concurrency: int, requests: int) -> dict[str, float]:
    key, secret = server.credentials()
    target = target_for(server.endpoint, "noop", key, secret)
    await run_load(target, b"{}", concurrency, max(200, concurrency * 20))  # warm
    before = cpu_seconds(server.proc.pid)
    result = await run_load(target, b"{}", concurrency, requests)
    used = cpu_seconds(server.proc.pid) - before
    return {
        "per_second": result.per_second,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "server_cpu_us_per_invoke": used / max(1, result.requests - result.errors) * 1e6,
        "errors": result.errors,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--sandbox", default="auto")
    args = p.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    samples: dict[str, dict[int, list[dict[str, float]]]] = {
        mode: {c: [] for c in CONCURRENCY} for mode in MODES
    }
    with tempfile.TemporaryDirectory() as tmp:
        servers: dict[str, ServerProcess] = {}
        try:
            for mode, flags in MODES.items():
                servers[mode] = start_server(
                    Path(tmp) / mode,
                    extra_args=["--sandbox", args.sandbox, "--log-format", "json", *flags],
                    separate_stderr=True,
                )
                create_function(servers[mode], "noop", role(servers[mode]))
            for _ in range(args.rounds):
                for concurrency in CONCURRENCY:
                    for mode, server in servers.items():
                        got = asyncio.run(measure(server, concurrency, args.requests))
                        samples[mode][concurrency].append(got)
                        server.errors.clear()  # the drained lines are not needed
        finally:
            for server in servers.values():
                server.stop()
    results: list[dict[str, Any]] = []
    for mode in MODES:
        for concurrency in CONCURRENCY:
            runs = samples[mode][concurrency]
            results.append(
                {
                    "access_log": mode,
                    "concurrency": concurrency,
                    **{key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]},
                }
            )
    doc = {
        "benchmark": "access_log",
        "requests": args.requests,
        "rounds": args.rounds,
        "results": results,
    }
    json.dump(doc, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
