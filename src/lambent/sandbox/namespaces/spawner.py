"""One fork of a template, from host resources to a child that reported "up".

A fork is either run at once (its variables and argv travel with the spawn request) or kept
as a *standby*: fully isolated (namespaces, cgroups, /tmp, uid, seccomp) and parked on its
control socket until `assign()` hands it an environment's variables. Only the runtime's own
work (init, then GET /next) is left for after the request, as when Lambda takes one of its
pre-created slots; nothing the function can observe is shared between environments.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lambent.guest.lambent_guest import wire
from lambent.sandbox.namespaces.environment import Resources

if TYPE_CHECKING:
    from lambent.sandbox.namespaces.backend import NamespacesSandbox


class SpawnFailed(OSError):
    """The template could not fork, or the child failed to isolate itself."""


@dataclass
class Forked:
    """A child that is up: everything the host holds for it."""

    spawn_id: str
    memory_mb: int
    ephemeral_mb: int
    resources: Resources
    pid: int
    pidfd: int
    listener: socket.socket
    output_fd: int
    exit_future: asyncio.Future[int]
    ctl: socket.socket | None  # open while a standby waits for its environment
    timings: dict[str, float] = field(default_factory=dict)

    def assign(self, variables: dict[str, str], argv: list[str]) -> None:
        """Let a standby run as the environment these variables describe."""
        assert self.ctl is not None
        self.ctl.settimeout(2.0)  # the standby waits in recv(): this never blocks for long
        try:
            wire.send(self.ctl, {"op": "run", "env": variables, "argv": argv})
        finally:
            self.ctl.close()
            self.ctl = None

    def discard(self, sandbox: NamespacesSandbox) -> None:
        """A standby nobody will use: kill it (closing its ctl ends it) and free everything."""
        if self.ctl is not None:
            self.ctl.close()
            self.ctl = None
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        for closer in (
            self.listener.close,
            lambda: os.close(self.output_fd),
            lambda: os.close(self.pidfd),
        ):
            with contextlib.suppress(OSError):
                closer()
        sandbox.release(self.resources)


class ChildFds:
    """fds for one spawn request, by name; those we opened for it are closed once sent."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.fds: list[int] = []
        self._owned: list[int] = []

    def add(self, name: str, fd: int, owned: bool) -> None:
        self.names.append(name)
        self.fds.append(fd)
        if owned:
            self._owned.append(fd)

    def add_channels(self) -> tuple[socket.socket, int]:
        """The control socket and output pipe; returns the host ends."""
        ctl_host, ctl_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ctl_host.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        out_r, out_w = os.pipe()
        self.add("ctl", ctl_child.detach(), owned=True)
        self.add("output", out_w, owned=True)
        return ctl_host, out_r

    def close_sent(self) -> None:
        for fd in self._owned:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._owned.clear()


@dataclass
class ForkRequest:
    spawn_id: str
    memory_mb: int
    ephemeral_mb: int
    uid: int
    userns: bool  # SnapStart: the child makes its own netns inside the template's userns
    egress: bool
    # For an immediate run: the environment's variables and argv. None: a standby.
    run: tuple[dict[str, str], list[str]] | None


class Spawner:
    """Drives one fork over the template's control socket (see zygote.py)."""

    def __init__(self, sandbox: NamespacesSandbox, control: Any, exit_future: Any) -> None:
        self.sandbox = sandbox
        self.control = control  # template._Control
        self.exit_future = exit_future  # spawn_id -> asyncio.Future[int]

    async def fork(self, request: ForkRequest) -> Forked:
        sandbox = self.sandbox
        started = time.perf_counter()
        timings: dict[str, float] = {}
        try:
            cgroup = sandbox.cgroups.create(request.spawn_id, request.memory_mb)
        except BaseException:
            if not request.userns:
                sandbox.uids.give_back(request.uid)
            raise
        resources = Resources(cgroup, None, None, None if request.userns else request.uid)
        sandbox.hold(resources)
        child = ChildFds()
        out_r = -1
        ctl: socket.socket | None = None
        try:
            await self._collect(resources, child, request)
            ctl, out_r = child.add_channels()
            message = _message(request, child)
            reply = asyncio.get_running_loop().create_future()
            self.control.replies[request.spawn_id] = reply
            exit_future = self.exit_future(request.spawn_id)
            timings["host_prepare"] = (time.perf_counter() - started) * 1000
            try:
                self.control.send(message, child.fds)
            finally:
                child.close_sent()
            answer = await reply
            timings["forked"] = (time.perf_counter() - started) * 1000
            if answer["op"] != "spawned":
                raise SpawnFailed(f"fork failed: {answer.get('error')}")
            pid, pidfd, listener = await self._handshake(ctl, resources, request, timings)
            timings["ready"] = (time.perf_counter() - started) * 1000
        except BaseException:
            child.close_sent()
            if out_r >= 0:
                os.close(out_r)
            if ctl is not None:
                ctl.close()
            await asyncio.to_thread(sandbox.release, resources)
            raise
        os.set_blocking(out_r, False)
        listener.setblocking(False)
        if request.run is not None:
            ctl.close()
            ctl = None
        return Forked(
            request.spawn_id,
            request.memory_mb,
            request.ephemeral_mb,
            resources,
            pid,
            pidfd,
            listener,
            out_r,
            exit_future,
            ctl,
            timings,
        )

    async def _collect(self, resources: Resources, child: ChildFds, request: ForkRequest) -> None:
        """The host objects the child takes over: /tmp, netns, cgroup.procs fds."""
        sandbox = self.sandbox
        resources.scratch = await sandbox.take_scratch(request.ephemeral_mb)
        if resources.scratch is not None:
            child.add("tmp", resources.scratch.clone_for(request.uid, request.uid), owned=True)
        if not request.userns:
            resources.slot = await sandbox.take_slot(request.egress)
            child.add("netns", resources.slot.netns_fd, owned=False)
        for fd in resources.cgroup.open_procs():
            child.add("cgroup", fd, owned=True)

    async def _handshake(
        self,
        ctl: socket.socket,
        resources: Resources,
        request: ForkRequest,
        timings: dict[str, float],
    ) -> tuple[int, int, socket.socket]:
        """Wait for the child's "up" (its host pid rides along as SCM_CREDENTIALS)."""
        await _readable(ctl, self.sandbox.config.template_timeout_s)
        ctl.setblocking(True)
        message, fds, pid = wire.recv_with_pid(ctl)
        try:
            if message is None or message.get("op") != "up" or pid is None:
                error = message.get("error") if message else "exited during setup"
                raise SpawnFailed(f"environment setup failed: {error}")
            for step, ms in dict(message.get("timings") or {}).items():
                timings[f"child_{step}"] = float(ms)
            pidfd = fds.pop(0)
            if request.userns:
                listener = socket.socket(fileno=fds.pop(0))
                netns_fd = fds.pop(0)
                resources.slot = await asyncio.to_thread(
                    self.sandbox.network.adopt, netns_fd, request.egress
                )
                if request.egress:
                    wire.send(ctl, {"op": "go"})
            else:
                assert resources.slot is not None and resources.slot.listener is not None
                listener = resources.slot.listener
                resources.slot.listener = None
                write_id_maps(pid, request.uid, self.sandbox.config.root_uid)
                wire.send(ctl, {"op": "go"})
            return pid, pidfd, listener
        finally:
            for fd in fds:
                os.close(fd)


async def _readable(sock: socket.socket, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock.fileno(), wake)
    try:
        await asyncio.wait_for(ready, timeout)
    finally:
        loop.remove_reader(sock.fileno())


def _message(request: ForkRequest, child: ChildFds) -> dict[str, Any]:
    message: dict[str, Any] = {
        "op": "spawn",
        "id": request.spawn_id,
        "fds": child.names,
        "hostname": hostname(request.spawn_id),
        "uid": request.uid,
        "gid": request.uid,
        "tmp_mb": request.ephemeral_mb,
        # A SnapStart child waits for its veth; any other for its id maps (write_id_maps).
        "await_go": request.egress if request.userns else True,
        "standby": request.run is None,
    }
    if request.run is not None:
        message["env"], message["argv"] = request.run
    return message


def write_id_maps(pid: int, host_uid: int, root_uid: int) -> None:
    """An environment's user namespace maps 993/990 (sbx_user1051) to its own host uid and
    0 to the sandbox's root (idmap.py), so what Lambda has root own shows as root's. Only
    a process privileged in the parent namespace may write a mapping of more than its own
    uid: the child made the namespace, the host maps it (`pid`: its host pid), once."""
    for name, inside in (("uid_map", 993), ("gid_map", 990)):
        fd = os.open(f"/proc/{pid}/{name}", os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, f"0 {root_uid} 1\n{inside} {host_uid} 1\n".encode())
        finally:
            os.close(fd)


def hostname(spawn_id: str) -> str:
    """Lambda's hostnames look like 169.254.x.y."""
    raw = bytes.fromhex(spawn_id[:4]) if len(spawn_id) >= 4 else b"\0\0"
    return f"169.254.{raw[0]}.{raw[1]}"
