"""Environment creation rate: how many isolated environments per second reach GET /next.

    python -m bench.sandbox_rate [--n 100] [--concurrency 8] [--seconds 5]

  * burst: N environments created back to back (C at a time) and kept alive, with the
    network slots and /tmp images pre-created as Lambda pre-creates its slots;
  * sustained: create, reach /next, destroy, in a loop for S seconds (slots and /tmp images
    are recycled), which includes everything the host pays per environment;
  * baseline, same run: plain subprocesses of /usr/bin/python3.11 (no isolation).
Needs root. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.sandbox.support import Harness, env_id, first_next, require_sandbox

from bench.sandbox_common import HANDLER, fresh_process, hold_next, machine
from lambent.sandbox.interface import EnvironmentSpec
from lambent.sandbox.namespaces.template import NamespaceTemplate


async def burst(tpl: NamespaceTemplate, n: int, concurrency: int) -> dict[str, Any]:
    gate = asyncio.Semaphore(concurrency)
    envs = []
    writers = []

    async def one() -> None:
        async with gate:
            env = await tpl.spawn(EnvironmentSpec(env_id(), 128, 512, {}))
            envs.append(env)
            writers.append(await hold_next(env.runtime_api_socket))

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    wall = time.perf_counter() - started
    for writer in writers:
        writer.close()
    await asyncio.gather(*(env.destroy(0) for env in envs))
    return {
        "n": n,
        "concurrency": concurrency,
        "wall_s": round(wall, 3),
        "envs_per_s": round(n / wall, 1),
    }


async def sustained(tpl: NamespaceTemplate, seconds: float, concurrency: int) -> dict[str, Any]:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            env = await tpl.spawn(EnvironmentSpec(env_id(), 128, 512, {}))
            await first_next(env)
            await env.destroy(0)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return {
        "seconds": round(wall, 2),
        "concurrency": concurrency,
        "created": done,
        "envs_per_s": round(done / wall, 1),
    }


async def baseline(code: Path, n: int, concurrency: int) -> dict[str, Any]:
    gate = asyncio.Semaphore(concurrency)
    procs = []

    async def one() -> None:
        async with gate:
            proc, listener = fresh_process(code)
            procs.append((proc, listener))
            writer = await hold_next(listener)
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    wall = time.perf_counter() - started
    for proc, listener in procs:
        proc.kill()
        proc.wait()
        listener.close()
    return {
        "n": n,
        "concurrency": concurrency,
        "wall_s": round(wall, 3),
        "envs_per_s": round(n / wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    require_sandbox()
    with tempfile.TemporaryDirectory(prefix="bench-rate-") as tmp:
        h = Harness(Path(tmp), network_slots_ready=args.n + 8, scratch_ready=args.n + 8)
        try:
            code = h.code_dir({"app.py": HANDLER})
            tpl = h.template(code)
            # wait until the pools hold what the burst needs (bounded)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and (
                h.sandbox.network.ready_count(True) < args.n
                or h.sandbox.scratch is None
                or h.sandbox.scratch.ready_count(512) < args.n
            ):
                h.run(asyncio.sleep(0.2))
            report = {
                "benchmark": "sandbox_rate",
                "machine": machine(),
                "baseline_fresh_process": h.run(baseline(code, args.n, args.concurrency), 300),
                "burst_template_fork": h.run(burst(tpl, args.n, args.concurrency), 300),
                "sustained_create_destroy": h.run(
                    sustained(tpl, args.seconds, args.concurrency), 300
                ),
            }
            h.run(tpl.close())
        finally:
            h.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
