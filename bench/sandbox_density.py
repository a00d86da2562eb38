"""Density: memory per idle Python environment, and how many fit in 4 GiB.

    python -m bench.sandbox_density [--n 50]

Also the cgroup freezer: how long freeze() and thaw() take on an idle environment.
Idle = the runtime is parked in GET /next (the request is held open, as the Runtime API
does between invocations). PSS comes from /proc/PID/smaps_rollup: pages shared with the
template (and with sibling environments) are split between their users, so the sum of PSS
is the real footprint. The cgroup's own charge (memory.usage_in_bytes, which also counts
page cache and kernel memory) is reported beside it. Baseline, same run: idle plain
subprocesses of /usr/bin/python3.11 running the same bootstrap.
Needs root. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.sandbox.support import Harness, env_id, require_sandbox

from bench.sandbox_common import HANDLER, fresh_process, hold_next, machine, pss_kb
from lambent.sandbox.interface import EnvironmentSpec

GIB4_KB = 4 * 1024 * 1024


def describe(pss: list[int], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    mean_kb = statistics.fmean(pss)
    return {
        "n": len(pss),
        "pss_mean_mb": round(mean_kb / 1024, 2),
        "pss_median_mb": round(statistics.median(pss) / 1024, 2),
        "fit_in_4gib": int(GIB4_KB // mean_kb),
        **(extra or {}),
    }


async def idle_template_envs(h: Harness, code: Path, n: int, snapstart: bool) -> dict[str, Any]:
    tpl = await h.sandbox.template(h_spec(h, code, snapstart))
    envs, writers = [], []
    try:
        for _ in range(n):
            env = await tpl.spawn(EnvironmentSpec(env_id(), 128, 512, {}))
            envs.append(env)
            writers.append(await hold_next(env.runtime_api_socket))
        await asyncio.sleep(0.5)
        pss = [pss_kb(env.pid) for env in envs]
        charged = [
            int((d / "memory.usage_in_bytes").read_text())
            for env in envs
            for d in env.cgroup.dirs
            if (d / "memory.usage_in_bytes").exists()
        ]
        freeze_ms, thaw_ms = [], []
        for env in envs:
            t0 = time.perf_counter()
            env.freeze()
            t1 = time.perf_counter()
            env.thaw()
            t2 = time.perf_counter()
            freeze_ms.append((t1 - t0) * 1000)
            thaw_ms.append((t2 - t1) * 1000)
        template_pid = tpl.process_pid()
        template_pss = pss_kb(template_pid) if template_pid else 0
        return describe(
            pss,
            {
                "cgroup_charge_mean_mb": round(statistics.fmean(charged) / (1 << 20), 2)
                if charged
                else None,
                "template_pss_mb": round(template_pss / 1024, 2),
                "fit_in_4gib_with_template": int((GIB4_KB - template_pss) // statistics.fmean(pss)),
                "freeze_p50_ms": round(statistics.median(freeze_ms), 3),
                "thaw_p50_ms": round(statistics.median(thaw_ms), 3),
            },
        )
    finally:
        for writer in writers:
            writer.close()
        await asyncio.gather(*(env.destroy(0) for env in envs))
        await tpl.close()


def h_spec(h: Harness, code: Path, snapstart: bool) -> Any:
    from tests.sandbox.support import BASE_ENV

    from lambent.runtimes.registry import guest_dir, launch_for
    from lambent.sandbox.interface import TemplateSpec

    return TemplateSpec(
        key=env_id(),
        account_id="123456789012",
        function_name="density",
        version="1",
        launch=launch_for("python3.11"),
        handler="app.handler",
        code_dir=code,
        layer_dirs=(),
        guest_dir=guest_dir(),
        snapstart=snapstart,
        base_env={**BASE_ENV, "_HANDLER": "app.handler"},
    )


async def idle_processes(code: Path, n: int) -> dict[str, Any]:
    procs = []
    writers = []
    try:
        for _ in range(n):
            proc, listener = fresh_process(code)
            procs.append((proc, listener))
            writers.append(await hold_next(listener))
        await asyncio.sleep(0.5)
        return describe([pss_kb(proc.pid) for proc, _ in procs])
    finally:
        for writer in writers:
            writer.close()
        for proc, listener in procs:
            proc.kill()
            proc.wait()
            listener.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    require_sandbox()
    with tempfile.TemporaryDirectory(prefix="bench-density-") as tmp:
        h = Harness(Path(tmp), network_slots_ready=args.n + 4, scratch_ready=args.n + 4)
        try:
            code = h.code_dir({"app.py": HANDLER})
            report = {
                "benchmark": "sandbox_density",
                "machine": machine(),
                "baseline_fresh_process": h.run(idle_processes(code, args.n), 300),
                "template_fork": h.run(idle_template_envs(h, code, args.n, False), 300),
                "snapstart_fork": h.run(idle_template_envs(h, code, args.n, True), 300),
            }
        finally:
            h.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
