"""Cold start at the sandbox level: spawn to the runtime's first GET /next.

    python -m bench.sandbox_coldstart [--n 100] [--memory 128]

Same run, same handler (`return event`), >= 100 fresh environments each:
  (a) baseline: a plain subprocess of /usr/bin/python3.11 running Lambent's bootstrap,
      no isolation at all;
  (b) template fork with full isolation (namespaces, cgroups, seccomp, uid 993, /tmp, netns);
  (c) SnapStart: the same, forked from a template whose init burned 200 ms of CPU.
(b) and (c) run twice: forking on demand (standby_per_template=0: the whole isolation cost
is on the request's path) and with the default standby fork (isolated ahead of time and
parked; the request pays the hand-over and the runtime's own work).
Also prints the median of where spawn() spends its time (host and child phases).
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

from tests.sandbox.support import Harness, first_next, require_sandbox

from bench.sandbox_common import (
    HANDLER,
    SYNTHETIC_INIT,
    fresh_process_first_next,
    machine,
    median_timings,
    summary,
)


def isolated(h: Harness, code: Path, n: int, memory: int, snapstart: bool) -> dict[str, Any]:
    tpl = h.template(code, snapstart=snapstart, memory_mb=memory)
    standby = h.sandbox.config.standby_per_template
    samples: list[float] = []
    timings: list[dict[str, float]] = []

    async def one() -> None:
        started = time.perf_counter()
        env = await tpl.spawn(h_spec(memory))
        try:
            await first_next(env)
            samples.append(time.perf_counter() - started)
            timings.append(env.timings)
        finally:
            await env.destroy(0)

    try:
        for _ in range(3):  # warm the pools and the template's page cache
            h.run(one())
        samples.clear()
        timings.clear()
        for _ in range(n):
            h.run(one())
            h.run(asyncio.sleep(0.005))  # let background recycling run, as between requests
            if standby:
                h.run(parked(tpl, standby))
    finally:
        h.run(tpl.close())
    result = summary(samples)
    result["spawn_profile_ms"] = median_timings(timings)
    if tpl.snapstart_report is not None:
        result["snapstart_init_ms"] = round(tpl.snapstart_report.init_duration_ms, 1)
    return result


async def parked(tpl: Any, count: int) -> None:
    """Requests spaced out enough for the standby to be back (bounded wait)."""
    deadline = time.monotonic() + 5
    while tpl.standby_count() < count and time.monotonic() < deadline:
        await asyncio.sleep(0.001)


def h_spec(memory: int) -> Any:
    from tests.sandbox.support import env_id

    from lambent.sandbox.interface import EnvironmentSpec

    return EnvironmentSpec(env_id(), memory, 512, {})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--memory", type=int, default=128)
    args = parser.parse_args()
    require_sandbox()
    report: dict[str, Any] = {
        "benchmark": "sandbox_coldstart",
        "machine": machine(),
        "memory_mb": args.memory,
    }
    for standby in (0, 1):
        with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
            h = Harness(
                Path(tmp), network_slots_ready=8, scratch_ready=8, standby_per_template=standby
            )
            try:
                plain = h.code_dir({"app.py": HANDLER})
                heavy = h.code_dir({"app.py": SYNTHETIC_INIT})
                h.run(asyncio.sleep(1.0))  # pools fill
                if not standby:
                    baseline = [h.run(fresh_process_first_next(plain)) for _ in range(args.n)]
                    report["a_fresh_process_no_isolation"] = summary(baseline)
                mode = "standby" if standby else "on_demand"
                report[f"b_template_fork_full_isolation_{mode}"] = isolated(
                    h, plain, args.n, args.memory, False
                )
                report[f"c_snapstart_200ms_init_{mode}"] = isolated(
                    h, heavy, args.n, args.memory, True
                )
            finally:
                h.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
