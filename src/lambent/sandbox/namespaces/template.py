"""The host side of one template process (see lambent_guest/zygote.py for the other side)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import time
from typing import TYPE_CHECKING, Any

from lambent.guest.lambent_guest import wire
from lambent.sandbox.interface import EnvironmentSpec, SnapStartReport, TemplateSpec
from lambent.sandbox.namespaces import rootfs
from lambent.sandbox.namespaces.environment import (
    RUNTIME_API_ADDRESS,
    NamespaceEnvironment,
    Resources,
)

if TYPE_CHECKING:
    from lambent.sandbox.namespaces.backend import NamespacesSandbox

BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from lambent_guest.zygote import main; main()"
OUTPUT_LIMIT = 1 << 20


class TemplateFailed(OSError):
    """The template process could not start (its output explains why)."""


class _Control:
    """The SEQPACKET socket to the template: requests out, replies and exits in."""

    def __init__(self, sock: socket.socket, on_exit: Any, on_eof: Any) -> None:
        self.sock = sock
        self.sock.setblocking(False)
        # The kernel stamps each message with the sender's pid, as the host sees it.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.template_pid: int | None = None
        self.replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.start: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._on_exit = on_exit
        self._on_eof = on_eof
        self.closed = False
        asyncio.get_running_loop().add_reader(sock.fileno(), self._readable)

    def _readable(self) -> None:
        while True:
            try:
                message, fds, pid = wire.recv_with_pid(self.sock)
            except BlockingIOError:
                return
            except OSError:
                message, fds, pid = None, [], None
            for fd in fds:
                os.close(fd)
            if message is None:
                self.shutdown()
                self._on_eof()
                return
            self._dispatch(message, pid)

    def _dispatch(self, message: dict[str, Any], pid: int | None) -> None:
        op = message.get("op")
        if op in ("ready", "failed"):
            if op == "ready":
                self.template_pid = pid
            if not self.start.done():
                self.start.set_result(message)
        elif op in ("spawned", "spawn_failed"):
            future = self.replies.pop(str(message["id"]), None)
            if future is not None and not future.done():
                future.set_result(message)
        elif op == "exited":
            self._on_exit(str(message["id"]), int(message["status"]))

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        self.sock.setblocking(True)
        try:
            wire.send(self.sock, message, fds)
        finally:
            self.sock.setblocking(False)

    def shutdown(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(self.sock.fileno())
        self.sock.close()
        error: dict[str, Any] = {"op": "failed", "error": "the template process exited"}
        if not self.start.done():
            self.start.set_result(error)
        for future in self.replies.values():
            if not future.done():
                future.set_result({"op": "spawn_failed", "error": "template exited"})
        self.replies.clear()


class _ChildFds:
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


class NamespaceTemplate:
    def __init__(self, sandbox: NamespacesSandbox, spec: TemplateSpec) -> None:
        self.spec = spec
        self.snapstart_report: SnapStartReport | None = None
        self._sandbox = sandbox
        self._userns = spec.snapstart
        self._uid: int | None = None
        self._exits: dict[str, asyncio.Future[int]] = {}
        self._control: _Control | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._output = bytearray()
        self._init_slot: Any = None

    # -- start -----------------------------------------------------------------------------
    async def start(self) -> None:
        sandbox, spec = self._sandbox, self.spec
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        out_r, out_w = os.pipe()
        interpreter = spec.launch.interpreter if spec.launch.kind == "python" else None
        argv = [
            interpreter or sandbox.config.zygote_python,
            "-I",
            "-B",
            "-c",
            BOOT,
            str(spec.guest_dir),
            str(theirs.fileno()),
        ]
        try:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=out_w,
                pass_fds=(theirs.fileno(),),
                env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
                cwd="/",
            )
        finally:
            theirs.close()
            os.close(out_w)
        loop = asyncio.get_running_loop()
        os.set_blocking(out_r, False)
        loop.add_reader(out_r, self._read_output, out_r)
        self._control = _Control(ours, self._on_exit, self._on_eof)
        config, fds = self._config()
        try:
            self._control.send(config, fds)
        finally:
            for fd in fds:
                os.close(fd)
        try:
            reply = await asyncio.wait_for(
                asyncio.shield(self._control.start), sandbox.config.template_timeout_s
            )
        except TimeoutError:
            reply = {"op": "failed", "error": "the template did not start in time"}
        await asyncio.to_thread(self._process.wait)
        if reply["op"] != "ready":
            await self.close()
            detail = self._output.decode(errors="replace").strip()
            raise TemplateFailed(
                f"template for {spec.function_name}: {reply.get('error')}"
                + (f"\n{detail}" if detail else "")
            )
        snap = reply.get("snapstart")
        if snap is not None:
            self.snapstart_report = SnapStartReport(
                ok=bool(snap["ok"]),
                init_duration_ms=float(snap["init_duration_ms"]),
                error_type=snap.get("error_type"),
                error_message=snap.get("error_message"),
                output=bytes(self._output),
            )

    def _config(self) -> tuple[dict[str, Any], list[int]]:
        spec, sandbox = self.spec, self._sandbox
        config: dict[str, Any] = {
            "op": "config",
            "kind": spec.launch.kind,
            "root": rootfs.plan(spec, sandbox.staging_dir),
            "userns": self._userns,
            "snapstart": spec.snapstart,
            "env": dict(spec.base_env),
        }
        fds: list[int] = []
        if self._userns:
            self._uid = sandbox.uids.take()
            config.update(uid=self._uid, gid=self._uid)
            config["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] = "snap-start"
            # The template's own network during init: a slot of its own.
            self._init_slot = sandbox.network.take(spec.network == "egress")
            fds.append(os.dup(self._init_slot.netns_fd))
        return config, fds

    def process_pid(self) -> int | None:
        """Host pid of the template process (PID 1 of its own pid namespace), if running."""
        control = self._control
        if control is None or control.closed:
            return None
        return control.template_pid

    def _read_output(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(fd)
            os.close(fd)
            return
        if len(self._output) < OUTPUT_LIMIT:
            self._output += data[: OUTPUT_LIMIT - len(self._output)]

    def _exit_future(self, env_id: str) -> asyncio.Future[int]:
        future = self._exits.get(env_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._exits[env_id] = future
        return future

    def _on_exit(self, env_id: str, raw: int) -> None:
        future = self._exits.pop(env_id, None) or asyncio.get_running_loop().create_future()
        if not future.done():
            future.set_result(raw)

    def _on_eof(self) -> None:
        """The template is gone, and with it (PID 1 of their parent ns) every environment."""
        for future in self._exits.values():
            if not future.done():
                future.set_result(9)  # raw wait status of SIGKILL
        self._exits.clear()

    # -- spawn -----------------------------------------------------------------------------
    async def spawn(self, env: EnvironmentSpec) -> NamespaceEnvironment:
        control = self._control
        if control is None or control.closed:
            raise TemplateFailed("the template process is not running")
        sandbox = self._sandbox
        started = time.perf_counter()
        timings: dict[str, float] = {}
        egress = self.spec.network == "egress"
        uid, resources = self._allocate(env)
        child = _ChildFds()
        out_r = -1
        ctl_host: socket.socket | None = None
        try:
            await self._collect(resources, child, uid, egress, env.ephemeral_mb)
            ctl_host, out_r = child.add_channels()
            message = self._spawn_message(env, child, uid, egress)
            reply_future = asyncio.get_running_loop().create_future()
            control.replies[env.env_id] = reply_future
            exit_future = self._exit_future(env.env_id)
            timings["host_prepare"] = (time.perf_counter() - started) * 1000
            try:
                control.send(message, child.fds)
            finally:
                child.close_sent()
            reply = await reply_future
            timings["forked"] = (time.perf_counter() - started) * 1000
            if reply["op"] != "spawned":
                raise TemplateFailed(f"fork failed: {reply.get('error')}")
            pid, pidfd, listener = await self._handshake(ctl_host, resources, egress, timings)
            resources.cgroup.limit_cpu(env.memory_mb)
            timings["ready"] = (time.perf_counter() - started) * 1000
        except BaseException:
            child.close_sent()
            if out_r >= 0:
                os.close(out_r)
            if ctl_host is not None:
                ctl_host.close()
            self._exits.pop(env.env_id, None)
            await asyncio.to_thread(sandbox.release, resources)
            raise
        os.set_blocking(out_r, False)
        listener.setblocking(False)
        created = NamespaceEnvironment(
            sandbox,
            env.env_id,
            pid,
            pidfd,
            listener,
            out_r,
            resources,
            exit_future,
            restored=self.snapstart_report is not None,
        )
        created.timings = timings
        return created

    def _allocate(self, env: EnvironmentSpec) -> tuple[int, Resources]:
        """The environment's host uid and cgroups (nothing else is held on failure)."""
        sandbox = self._sandbox
        uid = self._uid if self._userns else sandbox.uids.take()
        assert uid is not None
        try:
            cgroup = sandbox.cgroups.create(env.env_id, env.memory_mb)
        except BaseException:
            if not self._userns:
                sandbox.uids.give_back(uid)
            raise
        return uid, Resources(cgroup, None, None, None if self._userns else uid)

    def _spawn_message(
        self, env: EnvironmentSpec, child: _ChildFds, uid: int, egress: bool
    ) -> dict[str, Any]:
        return {
            "op": "spawn",
            "id": env.env_id,
            "fds": child.names,
            "env": self._variables(env),
            "argv": list(self.spec.launch.argv),
            "hostname": _hostname(env.env_id),
            "uid": uid,
            "gid": uid,
            "tmp_mb": env.ephemeral_mb,
            "await_go": self._userns and egress,
        }

    async def _collect(
        self, resources: Resources, child: _ChildFds, uid: int, egress: bool, ephemeral_mb: int
    ) -> None:
        """The host objects the child takes over: /tmp, netns, cgroup.procs fds."""
        sandbox = self._sandbox
        resources.scratch = await sandbox.take_scratch(ephemeral_mb)
        if resources.scratch is not None:
            child.add("tmp", resources.scratch.clone_for(uid, uid), owned=True)
        if not self._userns:
            resources.slot = await sandbox.take_slot(egress)
            child.add("netns", resources.slot.netns_fd, owned=False)
        for fd in resources.cgroup.open_procs():
            child.add("cgroup", fd, owned=True)

    async def _handshake(
        self, ctl: socket.socket, resources: Resources, egress: bool, timings: dict[str, float]
    ) -> tuple[int, int, socket.socket]:
        """Wait for the child's "up" (its host pid rides along as SCM_CREDENTIALS)."""
        loop = asyncio.get_running_loop()
        ctl.setblocking(False)
        ready: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(ctl.fileno(), readable)
        try:
            await asyncio.wait_for(ready, self._sandbox.config.template_timeout_s)
        finally:
            loop.remove_reader(ctl.fileno())
        ctl.setblocking(True)
        message, fds, pid = wire.recv_with_pid(ctl)
        try:
            if message is None or message.get("op") != "up" or pid is None:
                error = message.get("error") if message else "exited during setup"
                raise TemplateFailed(f"environment setup failed: {error}")
            for step, ms in dict(message.get("timings") or {}).items():
                timings[f"child_{step}"] = float(ms)
            pidfd = fds.pop(0)
            if self._userns:
                listener = socket.socket(fileno=fds.pop(0))
                netns_fd = fds.pop(0)
                resources.slot = await asyncio.to_thread(
                    self._sandbox.network.adopt, netns_fd, egress
                )
                if egress:
                    wire.send(ctl, {"op": "go"})
            else:
                assert resources.slot is not None and resources.slot.listener is not None
                listener = resources.slot.listener
                resources.slot.listener = None
            return pid, pidfd, listener
        finally:
            for fd in fds:
                os.close(fd)
            ctl.close()

    def _variables(self, env: EnvironmentSpec) -> dict[str, str]:
        variables = {**self.spec.base_env, **env.env}
        variables["AWS_LAMBDA_RUNTIME_API"] = RUNTIME_API_ADDRESS
        return variables

    # -- close -----------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop forking. The template lives on, unseen, until its last environment exits."""
        control = self._control
        if control is not None and not control.closed:
            with contextlib.suppress(OSError):
                control.send({"op": "close"})
        if self._init_slot is not None:
            slot, self._init_slot = self._init_slot, None
            await asyncio.to_thread(self._sandbox.network.release, slot)

    def kill(self) -> None:
        """Sandbox.close(): end the template and, with it, every environment it forked."""
        if self._control is not None:
            self._control.shutdown()
        if self._uid is not None:
            self._sandbox.uids.give_back(self._uid)
            self._uid = None


def _hostname(env_id: str) -> str:
    """Lambda's hostnames look like 169.254.x.y."""
    raw = bytes.fromhex(env_id[:4]) if len(env_id) >= 4 else b"\0\0"
    return f"169.254.{raw[0]}.{raw[1]}"


def monotonic_ms() -> float:
    return time.monotonic() * 1000.0
