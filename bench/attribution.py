"""Which outliers the machine caused: run-queue delay of each thread a request waits on.

On a busy host a warm invoke can wait tens of milliseconds for a CPU: the server's loop
thread, the function's runtime or the client itself sits runnable while other processes
run. Linux counts that wait per thread (`/proc/<pid>/task/<tid>/schedstat`, second field:
nanoseconds spent runnable but not running). Read before and after each request, it says
whether an outlier was the machine (the threads waited on a run queue for most of the
excess over the median) or the code (they did not: something ran, or blocked, that long).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from io import FileIO

OUTLIER_MS = 3.0


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(entry))
    return kids


def descendants(root: int) -> list[int]:
    kids, out, todo = _children(), [], [root]
    while todo:
        for child in kids.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cpu_ns(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/schedstat") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError):
        return 0


def busiest(pids: Sequence[int], before: dict[int, int]) -> int:
    """The process whose CPU time grew most since `before` (the runtime, after a warm-up)."""
    return max(pids, key=lambda p: cpu_ns(p) - before.get(p, 0))


class RunQueueProbe:
    """Run-queue delay (ns) of the server's loop thread, the runtime and this thread."""

    def __init__(self, server_pid: int, runtime_pid: int) -> None:
        paths = [
            f"/proc/{server_pid}/task/{server_pid}/schedstat",
            f"/proc/{runtime_pid}/schedstat",
            f"/proc/self/task/{threading.get_native_id()}/schedstat",
        ]
        self._files = [FileIO(p, "r") for p in paths]

    def sample(self) -> int:
        total = 0
        for f in self._files:
            f.seek(0)
            total += int(f.read().split()[1])
        return total

    def close(self) -> None:
        for f in self._files:
            f.close()


@dataclass(frozen=True)
class Attribution:
    outliers: int  # requests over OUTLIER_MS
    machine: int  # of which the threads waited on a run queue for >= half the excess
    code: int  # the rest: time that no run queue explains

    def as_dict(self) -> dict[str, int]:
        return {"outliers_over_3ms": self.outliers, "machine": self.machine, "code": self.code}


def attribute(latencies_s: Sequence[float], waits_ns: Sequence[int]) -> Attribution:
    ms = sorted(x * 1000 for x in latencies_s)
    median = ms[len(ms) // 2] if ms else 0.0
    outliers = machine = 0
    for latency, wait in zip(latencies_s, waits_ns, strict=True):
        took = latency * 1000
        if took <= OUTLIER_MS:
            continue
        outliers += 1
        if wait / 1e6 >= 0.5 * (took - median):
            machine += 1
    return Attribution(outliers, machine, outliers - machine)
