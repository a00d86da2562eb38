"""Run every benchmark and keep its JSON in bench/results/ (`make bench`).

Each benchmark is its own process (fresh interpreter, fresh server): their numbers go in
docs/SPECIFICATION.md beside the command that produced them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS: list[tuple[str, list[str]]] = [
    ("warm_invoke", ["--requests", "2000", "--cold", "30"]),
    ("sandbox_coldstart", ["--n", "100"]),
    ("sandbox_rate", []),
    ("sandbox_density", []),
    ("template_start", []),
    ("first_invoke", ["--functions", "30"]),
    ("idle_cost", []),  # 10,000 functions, 10 minutes idle: ~25 minutes
    ("python_bootstrap", []),
    ("node_init", []),
    ("async_drain", []),
    ("pg_enqueue", []),  # needs the PostgreSQL of --database
    ("sqs_throughput", []),
    ("kinesis_throughput", []),
    ("pg_blobs", []),  # needs the PostgreSQL of --database
    ("pg_store", []),  # needs the PostgreSQL of --database
    ("access_log", ["--requests", "2000", "--rounds", "3"]),
    ("boto3_import", []),
]


def main() -> int:
    out_dir = Path(__file__).resolve().parent / "results"
    out_dir.mkdir(exist_ok=True)
    failed = 0
    for name, args in BENCHMARKS:
        began = time.monotonic()
        print(f"== {name} {' '.join(args)}", flush=True)
        done = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            failed += 1
            print(done.stderr[-2000:], file=sys.stderr)
            continue
        doc = json.loads(done.stdout)
        (out_dir / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
        print(f"   {time.monotonic() - began:.0f} s -> bench/results/{name}.json", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
