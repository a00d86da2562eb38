"""`import boto3` in a function's init, on every Python runtime, through a real server.

    python -m bench.boto3_import [--cold 15] [--memory 1769] [--sandbox auto]

For each Python runtime this host has, two functions at `--memory` MB (1769 MB is one
vCPU): one whose module imports boto3 (and botocore.session, which boto3.client needs),
and a baseline whose module imports nothing. Each sample is a cold start: the function's
configuration is changed (a new environment is needed) and it is invoked with
LogType=Tail. Reported per runtime: REPORT's Init Duration for both (p50/p90), their
difference (what importing the SDK adds to init), and the import time the function
measured itself. Target (issue 8 §1.9): import boto3 in init <= 300 ms on every runtime.

Prints a JSON document; `bench.run_all` collects it into bench/results/.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role, start_server

from bench.loadgen import percentile
from lambent.runtimes.registry import available_runtimes

WITH_SDK = """
import time
_began = time.perf_counter()
import boto3
import botocore.session
IMPORT_MS = (time.perf_counter() - _began) * 1000.0

def handler(event, context):
    return {"import_ms": IMPORT_MS, "version": boto3.__version__}
"""
BASELINE = """
def handler(event, context):
    return {}
"""


def init_duration_ms(log_tail: str) -> float:
    text = base64.b64decode(log_tail).decode()
    for part in text.split("\t"):
        if part.startswith("Init Duration:"):
            return float(part.split()[2])
    raise ValueError(f"no Init Duration in the REPORT line: {text!r}")


def cold_samples(
    server: ServerProcess, name: str, source: str, runtime: str, memory: int, cold: int
) -> tuple[list[float], list[float]]:
    """(Init Duration, the function's own import time) of `cold` cold starts."""
    lam = server.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=lambda_role(server, "bench-boto3"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(source)},
        MemorySize=memory,
        Timeout=120,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    inits: list[float] = []
    imports: list[float] = []
    for n in range(cold):
        if n:  # a configuration change retires the environments: the next invoke is cold
            lam.update_function_configuration(
                FunctionName=name, Environment={"Variables": {"SAMPLE": str(n)}}
            )
            lam.get_waiter("function_updated_v2").wait(FunctionName=name)
        resp = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
        body = json.loads(resp["Payload"].read())
        if "FunctionError" in resp:
            raise RuntimeError(f"{name}: {body}")
        inits.append(init_duration_ms(resp["LogResult"]))
        if "import_ms" in body:
            imports.append(float(body["import_ms"]))
    return inits, imports


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(percentile(ordered, 50), 1),
        "p90_ms": round(percentile(ordered, 90), 1),
        "max_ms": round(ordered[-1], 1),
    }


def measure(server: ServerProcess, runtime: str, memory: int, cold: int) -> dict[str, Any]:
    tag = runtime.replace(".", "")
    base, _ = cold_samples(server, f"base-{tag}", BASELINE, runtime, memory, cold)
    inits, imports = cold_samples(server, f"boto3-{tag}", WITH_SDK, runtime, memory, cold)
    return {
        "cold_starts": cold,
        "init_baseline": stats(base),
        "init_with_boto3": stats(inits),
        "init_added_by_boto3_p50_ms": round(statistics.median(inits) - statistics.median(base), 1),
        "import_measured_in_function": stats(imports),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cold", type=int, default=15)
    p.add_argument("--memory", type=int, default=1769)
    p.add_argument("--sandbox", default="auto")
    args = p.parse_args()
    runtimes = [r for r in available_runtimes() if r.startswith("python")]
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(
            Path(tmp), extra_args=["--sandbox", args.sandbox, "--log-level", "WARNING"]
        )
        try:
            results = {r: measure(server, r, args.memory, args.cold) for r in runtimes}
        finally:
            server.stop()
    doc = {
        "benchmark": "boto3_import",
        "sandbox": args.sandbox,
        "memory_mb": args.memory,
        "target_ms": 300,
        "runtimes": results,
    }
    json.dump(doc, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
