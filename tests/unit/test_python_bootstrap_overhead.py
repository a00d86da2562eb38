"""How much time Lambent's Python bootstrap spends per warm invoke of a no-op handler.

A minimal Runtime API endpoint on a raw socket (pre-rendered responses, no HTTP library)
times, for each invocation, the span from writing the event until the runtime's response
has arrived, plus the span from acknowledging it until the next GET /next has arrived:
everything the runtime does per invoke, including its syscalls and loopback transit.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import time
from pathlib import Path
from typing import BinaryIO

import pytest

from lambent.runtimes.environment import instance_environment, version_environment
from lambent.runtimes.registry import (
    RUNTIME_DIR,
    TASK_ROOT,
    available_runtimes,
    guest_dir,
    launch_for,
)

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


def measure(runtime: str, workdir: Path) -> list[float]:
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
    env = {
        k: v.replace(TASK_ROOT, str(workdir)).replace(RUNTIME_DIR, str(guest_dir()))
        for k, v in env.items()
    }
    listener = socket.create_server(("127.0.0.1", 0))
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{listener.getsockname()[1]}"
    argv = [a.replace(RUNTIME_DIR, str(guest_dir())) for a in launch.argv]
    proc = subprocess.Popen(argv, env=env, cwd=workdir)
    spans: list[float] = []
    try:
        listener.settimeout(30)
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = conn.makefile("rb")
        _read_request(reader)  # the first GET /next
        body = b'{"k": 1}'
        for i in range(INVOKES):
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


@pytest.mark.parametrize("runtime", [r for r in available_runtimes() if r.startswith("python")])
def test_warm_invoke_overhead(runtime: str, tmp_path: Path) -> None:
    spans = sorted(measure(runtime, tmp_path))
    p50 = statistics.median(spans) * 1e6
    p99 = spans[int(len(spans) * 0.99)] * 1e6
    print(f"\n{runtime}: runtime time per no-op invoke p50 {p50:.0f} µs, p99 {p99:.0f} µs")
    # Measured at ~60-70 µs p50 on the 2-core reference machine; the bound leaves room for
    # a loaded CI host but fails on a regression of several times.
    assert p50 < 250, f"p50 {p50:.0f} µs"
