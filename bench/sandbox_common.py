"""Shared pieces of the sandbox benchmarks: statistics, a baseline fresh process, code."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.sandbox.support import BASE_ENV, _read_request

from lambent.runtimes.registry import guest_dir

PYTHON = "/usr/bin/python3.11"
HANDLER = "def handler(event, context):\n    return event\n"
SYNTHETIC_INIT = """
import time
_end = time.perf_counter() + 0.2
while time.perf_counter() < _end:  # 200 ms of CPU-bound init
    pass

def handler(event, context):
    return event
"""


def summary(samples_s: list[float]) -> dict[str, Any]:
    ms = sorted(s * 1000.0 for s in samples_s)

    def pct(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(p / 100.0 * len(ms)))], 2)

    return {
        "n": len(ms),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "mean_ms": round(statistics.fmean(ms), 2),
        "min_ms": round(ms[0], 2),
    }


def median_timings(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for row in rows for k in row})
    return {k: round(statistics.median(row[k] for row in rows if k in row), 3) for k in keys}


async def fresh_process_first_next(code: Path) -> float:
    """Baseline: a plain subprocess of the system Python running Lambent's bootstrap."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    env = {
        **BASE_ENV,
        "_HANDLER": "app.handler",
        "LAMBDA_TASK_ROOT": str(code),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
    }
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [PYTHON, str(guest_dir() / "lambent_guest" / "bootstrap.py")],
        env=env,
        cwd=str(code),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        conn, _ = await asyncio.wait_for(loop.sock_accept(listener), 30)
        reader, writer = await asyncio.open_connection(sock=conn)
        line, _ = await asyncio.wait_for(_read_request(reader), 30)
        elapsed = time.perf_counter() - started
        assert "/invocation/next" in line, line
        writer.close()
        return elapsed
    finally:
        proc.kill()
        proc.wait()
        listener.close()


def pss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "loadavg_1m_at_start": round(load[0], 2),
        "kernel": os.uname().release,
    }


async def hold_next(sock: socket.socket) -> asyncio.StreamWriter:
    """Accept the runtime's GET /next and leave it pending, as an idle environment's is."""
    loop = asyncio.get_running_loop()
    conn, _ = await asyncio.wait_for(loop.sock_accept(sock), 30)
    reader, writer = await asyncio.open_connection(sock=conn)
    line, _ = await asyncio.wait_for(_read_request(reader), 30)
    assert "/invocation/next" in line, line
    return writer


def fresh_process(code: Path) -> tuple[subprocess.Popen[bytes], socket.socket]:
    """A plain subprocess of the system Python running the bootstrap, and its listener."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    env = {
        **BASE_ENV,
        "_HANDLER": "app.handler",
        "LAMBDA_TASK_ROOT": str(code),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
    }
    proc = subprocess.Popen(
        [PYTHON, str(guest_dir() / "lambent_guest" / "bootstrap.py")],
        env=env,
        cwd=str(code),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, listener
