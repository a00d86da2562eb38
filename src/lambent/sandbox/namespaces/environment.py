"""One running execution environment of the namespaces backend (a SandboxedProcess)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lambent.clock import Clock, SystemClock, within
from lambent.sandbox.interface import ExitStatus
from lambent.sandbox.namespaces.cgroups import EnvCgroup
from lambent.sandbox.namespaces.network import Slot
from lambent.sandbox.namespaces.scratch import Scratch

if TYPE_CHECKING:
    from lambent.sandbox.namespaces.backend import NamespacesSandbox

RUNTIME_API_ADDRESS = "127.0.0.1:9001"


def exit_status(raw: int, oom_killed: bool) -> ExitStatus:
    if os.WIFSIGNALED(raw):
        sig = os.WTERMSIG(raw)
        return ExitStatus(code=None, signal=sig, oom_killed=oom_killed and sig == signal.SIGKILL)
    return ExitStatus(code=os.WEXITSTATUS(raw), signal=None)


def handles_sigterm(pid: int) -> bool:
    """PID 1 of a pid namespace ignores signals it has no handler for (SIGTERM included)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    except OSError:
        return False
    return False


@dataclass
class Resources:
    """What an environment holds on the host, released exactly once."""

    cgroup: EnvCgroup
    slot: Slot | None
    scratch: Scratch | None
    uid: int | None  # a per-environment uid to hand back (None: the template's)


class NamespaceEnvironment:
    telemetry_fd: int | None = None
    runtime_api_address = RUNTIME_API_ADDRESS

    def __init__(
        self,
        sandbox: NamespacesSandbox,
        env_id: str,
        pid: int,
        pidfd: int,
        listener: socket.socket,
        output_fd: int,
        resources: Resources,
        exit_future: asyncio.Future[int],
        restored: bool,
    ) -> None:
        self.env_id = env_id
        self.pid = pid
        self.runtime_api_socket = listener
        self.output_fd = output_fd
        self.restored = restored
        self._sandbox = sandbox
        self._pidfd = pidfd
        self._resources = resources
        self._raw_exit = exit_future
        self._frozen = False
        self._released = False
        # Where spawn() spent its time (ms since it began; child_* since the fork): profiles.
        self.timings: dict[str, float] = {}

    @property
    def cgroup(self) -> EnvCgroup:
        return self._resources.cgroup

    @property
    def slot_index(self) -> int | None:
        """The network slot this environment lives in (its addresses derive from it)."""
        slot = self._resources.slot
        return None if slot is None else slot.index

    async def wait(self) -> ExitStatus:
        raw = await asyncio.shield(self._raw_exit)
        return exit_status(raw, self.memory_limit_hit())

    def exited(self) -> bool:
        return self._raw_exit.done()

    def freeze(self) -> None:
        if not self._frozen and not self._released:
            self._resources.cgroup.freeze()
            self._frozen = True

    def thaw(self) -> None:
        if self._frozen and not self._released:
            self._resources.cgroup.thaw()
            self._frozen = False

    def memory_peak_bytes(self) -> int | None:
        if self._released:
            return None
        return self._resources.cgroup.memory_peak_bytes()

    def memory_limit_hit(self) -> bool:
        if self._released:
            return False
        return self._resources.cgroup.oom_kills() > 0

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, OSError):
            signal.pidfd_send_signal(self._pidfd, sig)

    async def destroy(self, grace_s: float, clock: Clock | None = None) -> ExitStatus:
        self.thaw()
        if not self._raw_exit.done():
            if grace_s > 0 and handles_sigterm(self.pid):
                self._signal(signal.SIGTERM)
                with contextlib.suppress(TimeoutError):
                    await within(clock or SystemClock(), asyncio.shield(self._raw_exit), grace_s)
            if not self._raw_exit.done():
                # SIGKILL to PID 1 takes the whole pid namespace with it.
                self._signal(signal.SIGKILL)
        status = await self.wait()
        await self.release()
        return status

    async def release(self) -> None:
        """Give back every host resource: cgroups, slot, /tmp, uid, fds."""
        if self._released:
            return
        self._released = True
        self._frozen = False
        with contextlib.suppress(OSError):
            self.runtime_api_socket.close()
        for fd in (self.output_fd, self._pidfd):
            with contextlib.suppress(OSError):
                os.close(fd)
        await asyncio.to_thread(self._sandbox.release, self._resources)
