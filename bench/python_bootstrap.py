"""How much time Lambent's Python bootstrap spends per warm invoke of a no-op handler.

    python -m bench.python_bootstrap [--invokes 3000]

A minimal Runtime API endpoint on a raw socket (pre-rendered responses, no HTTP library)
times, for each invocation, the span from writing the event until the runtime's response
has arrived, plus the span from acknowledging it until the next GET /next has arrived:
everything the runtime does per invoke, including its syscalls and loopback transit.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO

from lambent.runtimes.environment import instance_environment, version_environment
from lambent.runtimes.registry import (
    available_runtimes,
    guest_dir,
    launch_for,
)
from lambent.sandbox.process import path_map

INVOKES = 3000
WARMUP = 300
ACK = (
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
    b'\r\n{"status":"OK"}'
)


def _read_request(reader: BinaryIO) -> None:
    readline = reader.readline
    length = 0
    while True:
        line = readline()
        if line in (b"\r\n", b""):
            break
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        reader.read(length)


def measure(runtime: str, workdir: Path, invokes: int = INVOKES) -> list[float]:
    (workdir / "app.py").write_text("def handler(event, context):\n    return event\n")
    launch = launch_for(runtime)
    env = version_environment(
        launch=launch,
        function_name="fn",
        version="$LATEST",
        memory_mb=128,
        handler="app.handler",
        region="us-east-1",
    )
    env.update(instance_environment(log_stream_name="stream"))
    pairs = path_map(launch, workdir, guest_dir(), workdir / "no-layers")

    def host(value: str) -> str:
        for inside, outside in pairs:
            value = value.replace(inside, outside)
        return value

    env = {k: host(v) for k, v in env.items()}
    listener = socket.create_server(("127.0.0.1", 0))
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{listener.getsockname()[1]}"
    argv = [host(a) for a in launch.argv]
    proc = subprocess.Popen(argv, env=env, cwd=workdir)
    spans: list[float] = []
    try:
        listener.settimeout(30)
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = conn.makefile("rb")
        _read_request(reader)  # the first GET /next
        body = b'{"k": 1}'
        for i in range(invokes):
            event = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Lambda-Runtime-Aws-Request-Id: req-%d\r\n"
                b"Lambda-Runtime-Deadline-Ms: 9999999999999\r\n"
                b"Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:1:function:fn\r\n"
                b"Lambda-Runtime-Trace-Id: Root=1-%d\r\nContent-Length: %d\r\n\r\n"
                % (i, i, len(body))
            ) + body
            start = time.perf_counter()
            conn.sendall(event)
            _read_request(reader)  # POST .../response
            answered = time.perf_counter()
            conn.sendall(ACK)
            acked = time.perf_counter()
            _read_request(reader)  # the next GET /next
            spans.append((answered - start) + (time.perf_counter() - acked))
        conn.close()
    finally:
        proc.kill()
        proc.wait()
        listener.close()
    return spans[WARMUP:]


def report(runtime: str, invokes: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        spans = sorted(measure(runtime, Path(tmp), invokes))
    us = [s * 1e6 for s in spans]
    return {
        "runtime": runtime,
        "n": len(us),
        "p50_us": round(statistics.median(us), 1),
        "p99_us": round(us[int(len(us) * 0.99)], 1),
        "max_us": round(us[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invokes", type=int, default=INVOKES)
    args = parser.parse_args()
    runtimes = [r for r in available_runtimes() if r.startswith("python")]
    print(json.dumps({"runtimes": [report(r, args.invokes) for r in runtimes]}, indent=2))


if __name__ == "__main__":
    main()
