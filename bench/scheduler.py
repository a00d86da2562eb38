"""EventBridge Scheduler's firer: lateness of 10,000 `rate(1 minute)` schedules due at once,
and its CPU while idle (issue 11 §3).

    python -m bench.scheduler [--schedules 10000] [--database URL] [--idle-s 10]

Real time, the real firer (SystemClock) and store (SQLite in a temp dir, or PostgreSQL),
one process. Every schedule gets the same StartDate, after they are all made (12 ms
each), so all 10,000 are due at one instant: the worst tick. `fire_cpu_s` is the process's
CPU time from just before that instant until the last fire (firer and store client
together), which a loaded machine does not inflate as it does the wall-clock lateness.
Targets are a recording stand-in for AsyncInvocations.send_to_function (this measures the
scheduler: claim, deliver call, settle; the async path's own enqueue is
bench/async_drain.py). Reported: the lateness of each fire (fire time - due time)
p50/p99/max, the time to fire them all, and the firer's CPU (process time) over `--idle-s`
seconds with all 10,000 waiting for their next minute.

Prints a JSON document.
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

from lambent.clock import SystemClock
from lambent.schedules.backend import ScheduleBackend
from lambent.schedules.firing import Firer
from lambent.schedules.service import Schedules
from lambent.schedules.targets import Targets

A, REGION = "123456789012", "us-east-1"


class Recorder:
    def __init__(self) -> None:
        self.at: list[float] = []

    async def send_to_function(
        self,
        account: str,
        function: str,
        qualifier: str | None,
        payload: bytes,
        trace: str | None = None,
    ) -> str:
        self.at.append(time.time())
        return "id"


async def open_backend(url: str | None, tmp: Path) -> ScheduleBackend:
    if url is None:
        from lambent.schedules.sqlite import SqliteSchedules

        return SqliteSchedules(tmp / "schedules.db")
    from lambent.schedules.postgres import PgSchedules

    return await PgSchedules.open(url)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def run(n: int, url: str | None, idle_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        backend = await open_backend(url, Path(tmp))
        clock = SystemClock()
        schedules = Schedules(backend, clock)
        recorder = Recorder()
        firer = Firer(backend, Targets(recorder, None), clock)
        firer.start()  # running while the schedules are made, as in a server
        made = time.monotonic()
        start = float(int(time.time()) + 5 + n * 0.012)  # after the last is made
        target = {"Arn": f"arn:aws:lambda:{REGION}:{A}:function:f", "RoleArn": "r"}
        for i in range(n):
            await schedules.create(
                A,
                REGION,
                {
                    "Name": f"s{i}",
                    "ScheduleExpression": "rate(1 minute)",
                    "StartDate": start,
                    "FlexibleTimeWindow": {"Mode": "OFF"},
                    "Target": target,
                },
            )
        create_s = time.monotonic() - made
        assert time.time() < start, "making the schedules took past their start: raise it"
        await asyncio.sleep(max(0.0, start - time.time() - 0.5))
        cpu_fire = time.process_time()
        while len(recorder.at) < n:
            await asyncio.sleep(0.05)
        cpu_fire = time.process_time() - cpu_fire
        late = firer.lateness[:n]
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(idle_s)
        idle_cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
        await firer.stop()
        await backend.close()
    return {
        "schedules": n,
        "store": "postgres" if url else "sqlite",
        "create_s": round(create_s, 2),
        "lateness_p50_ms": round(statistics.median(late) * 1000, 1),
        "lateness_p99_ms": round(pct(late, 0.99) * 1000, 1),
        "lateness_max_ms": round(max(late) * 1000, 1),
        "all_fired_s_after_due": round(max(recorder.at) - start, 3),
        "fire_cpu_s": round(cpu_fire, 3),
        "idle_cpu_percent": round(idle_cpu * 100, 2),
        "idle_s": idle_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--database", default=None)
    parser.add_argument("--idle-s", type=float, default=10.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.schedules, args.database, args.idle_s)), indent=2))


if __name__ == "__main__":
    main()
