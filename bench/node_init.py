"""What Lambent's Node bootstrap costs at init, per Node runtime.

    python -m bench.node_init [--runs 20]

For each Node runtime, a fresh process per run, unsandboxed (the sandbox's own cost is
bench.sandbox_coldstart's), timed from spawn to the runtime's first GET /next, with the
process's CPU time at that moment (/proc/PID/stat):

  * baseline: the same Node binary running a script that only opens the Runtime API
    connection and sends GET /next (Node's own start-up);
  * cjs / esm: Lambent's bootstrap loading a no-op CommonJS / ES module handler (on Node 20
    an ES module handler also starts the off-thread NODE_PATH resolver, see node_path.mjs);
  * esm+sdk: an ES module handler that imports @aws-sdk/client-lambda from the runtime.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from lambent.runtimes.environment import instance_environment, version_environment
from lambent.runtimes.registry import available_runtimes, guest_dir, launch_for
from lambent.sandbox.process import path_map

RUNS = 20
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
HANDLERS = {
    "cjs": ("index.js", "exports.handler = async (event) => event;\n"),
    "esm": ("index.mjs", "export const handler = async (event) => event;\n"),
    "esm+sdk": (
        "index.mjs",
        'import { LambdaClient } from "@aws-sdk/client-lambda";\n'
        "export const handler = async () => typeof LambdaClient;\n",
    ),
}
BASELINE = """
const net = require("node:net");
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const s = net.connect(Number(port), host, () =>
  s.write("GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"));
"""


def _cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS  # utime + stime


def _one(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(ms from spawn to the first request, CPU ms by then) of one fresh process."""
    listener = socket.create_server(("127.0.0.1", 0))
    env = {**env, "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{listener.getsockname()[1]}"}
    listener.settimeout(30)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    try:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            elapsed = (time.perf_counter() - started) * 1000
            cpu = _cpu_ms(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        listener.close()
    return elapsed, cpu


def _environment(runtime: str, task: Path, handler: str) -> tuple[list[str], dict[str, str]]:
    launch = launch_for(runtime)
    env = version_environment(
        launch=launch,
        function_name="fn",
        version="$LATEST",
        memory_mb=1769,
        handler=handler,
        region="us-east-1",
    )
    env.update(instance_environment(log_stream_name="stream"))
    pairs = path_map(launch, task, guest_dir(), task / "no-layers")

    def host(value: str) -> str:
        for inside, outside in pairs:
            value = value.replace(inside, outside)
        return value

    return [host(a) for a in launch.argv], {k: host(v) for k, v in env.items()}


def _summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(s[0] for s in samples), 1),
        "cpu_p50_ms": round(statistics.median(s[1] for s in samples), 1),
    }


def report(runtime: str, runs: int) -> dict[str, Any]:
    result: dict[str, Any] = {"runtime": runtime}
    with tempfile.TemporaryDirectory() as tmp:
        task = Path(tmp)
        (task / "baseline.js").write_text(BASELINE)
        argv, env = _environment(runtime, task, "index.handler")
        node = argv[0]
        result["baseline"] = _summary([_one([node, "baseline.js"], env, task) for _ in range(runs)])
        for kind, (filename, source) in HANDLERS.items():
            for old in task.glob("index.*"):
                old.unlink()
            (task / filename).write_text(source)
            result[kind] = _summary([_one(argv, env, task) for _ in range(runs)])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    runtimes = [r for r in available_runtimes() if r.startswith("nodejs")]
    print(json.dumps({"runtimes": [report(r, args.runs) for r in runtimes]}, indent=2))


if __name__ == "__main__":
    main()
