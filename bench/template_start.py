"""Template start: where the time goes, and what a template costs while it waits.

    python -m bench.template_start [--n 50] [--hold 20]

Same run:
  (a) baseline: a fresh /usr/bin/python3.11 that loads what a template needs (the guest
      code and the runtime's bootstrap, then builds a PythonRuntime), i.e. what every
      template paid before the zygote, its root's mounts not even counted;
  (b) the first template of each installed runtime: its zygote starts, then forks it;
  (c) `--n` templates of python3.11 from the running zygote: until "ready" (the template
      can fork environments) and until its first standby is parked (when a function turns
      Active), with the median of each step (host and guest timestamps);
  (d) memory: `--hold` templates kept at once, PSS of each template process, of each
      standby fork and of the zygote.
Needs root. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.sandbox.support import Harness, require_sandbox

from bench.sandbox_common import HANDLER, PYTHON, machine, median_timings, pss_kb, summary
from lambent.runtimes.registry import available_runtimes, guest_dir, launch_for

LOAD = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "import lambent_guest.zygote, lambent_guest.version_template, lambent_guest.seccomp; "
    "from lambent_guest import bootstrap; bootstrap.PythonRuntime({'_HANDLER': 'app.handler'})"
)


def fresh_interpreter(n: int) -> dict[str, Any]:
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        subprocess.run([PYTHON, "-I", "-B", "-c", LOAD, str(guest_dir())], check=True)
        samples.append(time.perf_counter() - began)
    return summary(samples)


def first_of_each_runtime(h: Harness, code: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for runtime in ("python3.11", "python3.12", "python3.13", "nodejs20.x"):
        if runtime not in available_runtimes():
            continue
        launch = launch_for(runtime)
        tpl = h.template(code, launch=launch)
        out[runtime] = {k: round(v, 2) for k, v in tpl.timings.items()}
        h.run(tpl.close())
    return out


def from_zygote(h: Harness, code: Path, n: int) -> dict[str, Any]:
    ready, standby, rows = [], [], []
    for _ in range(n):
        tpl = h.template(code)
        ready.append(tpl.timings["ready"] / 1000)
        standby.append(tpl.timings["standby"] / 1000)
        rows.append(tpl.timings)
        h.run(tpl.close())
    return {
        "ready": summary(ready),
        "with_standby": summary(standby),
        "steps_ms": median_timings(rows),
    }


def memory(h: Harness, code: Path, hold: int) -> dict[str, Any]:
    templates = [h.template(code) for _ in range(hold)]
    try:
        tpl_kb = [pss_kb(pid) for t in templates if (pid := t.process_pid()) is not None]
        standby_kb = [pss_kb(pid) for t in templates for pid in t.standby_pids()]
        zygotes = {z.key[0]: pss_kb(z.pid) for z in h.sandbox.zygotes.running() if z.pid}
        accounted = [t.memory_bytes() / 1024 for t in templates]
    finally:
        for t in templates:
            h.run(t.close())
    return {
        "templates": hold,
        "template_pss_median_mb": round(statistics.median(tpl_kb) / 1024, 2),
        "standby_pss_median_mb": round(statistics.median(standby_kb) / 1024, 2),
        "per_template_total_median_mb": round(statistics.median(accounted) / 1024, 2),
        "zygote_pss_mb": {k: round(v / 1024, 2) for k, v in zygotes.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--hold", type=int, default=20)
    args = parser.parse_args()
    require_sandbox()
    report: dict[str, Any] = {"benchmark": "template_start", "machine": machine()}
    report["a_fresh_interpreter_loading_the_runtime"] = fresh_interpreter(args.n)
    with tempfile.TemporaryDirectory(prefix="bench-template-") as tmp:
        h = Harness(Path(tmp), network_slots_ready=8, scratch_ready=8)
        try:
            code = h.code_dir({"app.py": HANDLER})
            report["b_first_template_of_a_runtime_ms"] = first_of_each_runtime(h, code)
            h.template(code)  # warm
            report["c_template_from_the_zygote"] = from_zygote(h, code, args.n)
            report["d_memory"] = memory(h, code, args.hold)
        finally:
            h.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
