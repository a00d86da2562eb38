"""`lambent serve --processes N`: N frontend processes on one port, and their supervisor.

The parent holds the port (bound with SO_REUSEPORT, not listening, so it receives no
connection and nothing else can take the port) and starts N children, each a
`lambent serve` of the same arguments with one process, binding the port with
SO_REUSEPORT too: the kernel spreads new connections over their listeners, so one host
uses all its cores. A frontend keeps no state of its own (the database holds it), so the
children need not talk to each other.

* Ready: each child writes one byte on its own pipe once it serves; the parent prints
  "lambent ready" when all N have.
* Stop: SIGTERM or SIGINT to the parent is passed to every child; the parent waits for
  them (SIGKILL after `STOP_TIMEOUT_S`) and exits 0.
* A child that dies is restarted; if children keep dying right after their start
  (`FAST_FAILURES` in a row within `FAST_S` of starting), the parent stops them all and
  exits 1, rather than restart a broken configuration forever.
* The parent dying (even by SIGKILL) takes the children with it (PR_SET_PDEATHSIG):
  nothing is left serving. Frontends make nothing on the host (no sandbox).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from lambent.settings import Settings

STOP_TIMEOUT_S = 30.0
FAST_S = 10.0
FAST_FAILURES = 3
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class _Child:
    index: int
    proc: asyncio.subprocess.Process
    started: float


class Supervisor:
    def __init__(self, settings: Settings, argv: Sequence[str]) -> None:
        self._settings = settings
        self._argv = list(argv)  # `lambent serve` arguments, as given to the parent
        self._stopping = asyncio.Event()
        self._children: dict[int, _Child] = {}
        self._fast_failures = 0

    def _child_args(self, index: int, ready_fd: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "lambent",
            *self._argv,
            "--processes",
            "1",
            "--reuse-port",
            "--ready-fd",
            str(ready_fd),
            "--process-index",
            str(index),
        ]

    async def _start(self, index: int) -> _Child:
        read, write = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._child_args(index, write),
                pass_fds=(write,),
                preexec_fn=_die_with_parent,
            )
        finally:
            os.close(write)
        child = _Child(index, proc, time.monotonic())
        self._children[index] = child
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, os.read, read, 1)  # b"" if it died first
        finally:
            os.close(read)
        return child

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        n = self._settings.cluster.processes
        # The first alone: on a fresh data dir it makes the master key and the account,
        # which N processes at once would race to make.
        await self._start(0)
        await asyncio.gather(*(self._start(i) for i in range(1, n)))
        if all(c.proc.returncode is None for c in self._children.values()):
            print(
                f"lambent ready at {self._settings.endpoint} (role frontend, {n} processes, "
                f"pids {' '.join(str(c.proc.pid) for c in self._children.values())})",
                flush=True,
            )
        status = await self._watch()
        await self._stop_all()
        print("lambent: stopped", flush=True)
        return status

    async def _watch(self) -> int:
        """Restart children that die until told to stop; 1 if they keep dying."""
        waits = {asyncio.ensure_future(c.proc.wait()): c for c in self._children.values()}
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            while True:
                done, _ = await asyncio.wait([stop, *waits], return_when=asyncio.FIRST_COMPLETED)
                if stop in done:
                    return 0
                for fut in done:
                    child = waits.pop(fut)
                    if self._gave_up(child):
                        return 1
                    again = await self._start(child.index)
                    waits[asyncio.ensure_future(again.proc.wait())] = again
        finally:
            stop.cancel()
            for fut in waits:
                fut.cancel()

    def _gave_up(self, child: _Child) -> bool:
        lived = time.monotonic() - child.started
        self._fast_failures = self._fast_failures + 1 if lived < FAST_S else 0
        print(
            f"lambent: process {child.index} (pid {child.proc.pid}) exited with "
            f"{child.proc.returncode} after {lived:.1f} s"
            + ("; giving up" if self._fast_failures >= FAST_FAILURES else "; restarting"),
            file=sys.stderr,
            flush=True,
        )
        return self._fast_failures >= FAST_FAILURES

    async def _stop_all(self) -> None:
        live = [c.proc for c in self._children.values() if c.proc.returncode is None]
        for proc in live:
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in live)), STOP_TIMEOUT_S)
        except TimeoutError:
            for proc in live:
                if proc.returncode is None:
                    proc.kill()
            await asyncio.gather(*(p.wait() for p in live))
