"""The host side of one template process (see lambent_guest/zygote.py for the other side)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import time
import uuid
from typing import TYPE_CHECKING, Any

from lambent.guest.lambent_guest import wire
from lambent.sandbox.interface import EnvironmentSpec, SnapStartReport, TemplateSpec
from lambent.sandbox.namespaces import rootfs
from lambent.sandbox.namespaces.environment import RUNTIME_API_ADDRESS, NamespaceEnvironment
from lambent.sandbox.namespaces.spawner import Forked, ForkRequest, Spawner, SpawnFailed

if TYPE_CHECKING:
    from lambent.sandbox.namespaces.backend import NamespacesSandbox

BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from lambent_guest.zygote import main; main()"
OUTPUT_LIMIT = 1 << 20
SEND_TIMEOUT_S = 2.0


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
        """Messages are small and the template reads them at once; a template that stopped
        reading must not stall the server's event loop for more than a moment."""
        self.sock.settimeout(SEND_TIMEOUT_S)
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
        self._output_done: asyncio.Future[None] | None = None
        self._init_slot: Any = None
        self._standby: list[Forked] = []
        self._moved = rootfs.relocations(spec)  # host paths mounted elsewhere inside
        self._refill: asyncio.Task[None] | None = None
        self._closing = False

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
        self._output_done = loop.create_future()
        os.set_blocking(out_r, False)
        loop.add_reader(out_r, self._read_output, out_r)
        self._control = _Control(ours, self._on_exit, self._on_eof)
        config, fds = await self._config()
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
        self._keep_standby()
        snap = reply.get("snapstart")
        if snap is not None:
            # The template printed its init output before "ready"; take all of it.
            if self._output_done is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._output_done), 2.0)
            self.snapstart_report = SnapStartReport(
                ok=bool(snap["ok"]),
                init_duration_ms=float(snap["init_duration_ms"]),
                error_type=snap.get("error_type"),
                error_message=snap.get("error_message"),
                output=bytes(self._output),
            )

    async def _config(self) -> tuple[dict[str, Any], list[int]]:
        spec, sandbox = self.spec, self._sandbox
        config: dict[str, Any] = {
            "op": "config",
            "kind": spec.launch.kind,
            "root": rootfs.plan(spec, sandbox.staging_dir),
            "userns": self._userns,
            "snapstart": spec.snapstart,
            "env": {k: rootfs.rewrite(v, self._moved) for k, v in spec.base_env.items()},
        }
        fds: list[int] = []
        if self._userns:
            self._uid = sandbox.uids.take()
            config.update(uid=self._uid, gid=self._uid)
            config["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] = "snap-start"
            # The template's own network during init: a slot of its own.
            self._init_slot = await sandbox.take_slot(spec.network == "egress")
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
            if self._output_done is not None and not self._output_done.done():
                self._output_done.set_result(None)
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
        if control is None or control.closed or self._closing:
            raise TemplateFailed("the template process is closed")
        started = time.perf_counter()
        run = (
            self._variables(env),
            [rootfs.rewrite(a, self._moved) for a in self.spec.launch.argv],
        )
        forked = self._take_standby(env)
        if forked is not None:
            try:
                forked.assign(*run)
            except OSError:  # the standby died while parked: fork a fresh one
                await asyncio.to_thread(forked.discard, self._sandbox)
                forked = None
            else:
                forked.timings = {"standby": 1.0}
        if forked is None:
            forked = await self._fork(env.env_id, env.memory_mb, env.ephemeral_mb, run)
        self._keep_standby()
        cgroup = forked.resources.cgroup
        if forked.memory_mb != env.memory_mb:
            cgroup.set_memory_limit(env.memory_mb)
        cgroup.limit_cpu(env.memory_mb)  # after setup: the sandbox's own work is not throttled
        forked.timings["assigned"] = (time.perf_counter() - started) * 1000
        created = NamespaceEnvironment(
            self._sandbox,
            env.env_id,
            forked.pid,
            forked.pidfd,
            forked.listener,
            forked.output_fd,
            forked.resources,
            forked.exit_future,
            restored=self.snapstart_report is not None,
        )
        created.timings = forked.timings
        return created

    async def _fork(
        self,
        spawn_id: str,
        memory_mb: int,
        ephemeral_mb: int,
        run: tuple[dict[str, str], list[str]] | None,
    ) -> Forked:
        assert self._control is not None
        sandbox = self._sandbox
        uid = self._uid if self._userns else sandbox.uids.take()
        assert uid is not None
        request = ForkRequest(
            spawn_id, memory_mb, ephemeral_mb, uid, self._userns, self.spec.network == "egress", run
        )
        spawner = Spawner(sandbox, self._control, self._exit_future)
        try:
            return await spawner.fork(request)
        except SpawnFailed as exc:
            self._exits.pop(spawn_id, None)
            raise TemplateFailed(str(exc)) from exc
        except BaseException:
            self._exits.pop(spawn_id, None)
            raise

    def _take_standby(self, env: EnvironmentSpec) -> Forked | None:
        for forked in self._standby:
            if forked.ephemeral_mb == env.ephemeral_mb and not forked.exit_future.done():
                self._standby.remove(forked)
                return forked
        return None

    def _keep_standby(self) -> None:
        """Refill the standby forks in the background (one task at a time)."""
        if self._refill is None or self._refill.done():
            self._refill = asyncio.get_running_loop().create_task(self._refill_standby())

    async def _refill_standby(self) -> None:
        # Not right away: the environment just handed out is running its init now, and a
        # fork plus its setup would compete with it for the CPU.
        await asyncio.sleep(self._sandbox.config.standby_refill_delay_s)
        target = self._sandbox.config.standby_per_template
        while len(self._standby) < target and not self.closing():
            control = self._control
            if control is None or control.closed:
                return
            try:
                forked = await self._fork(
                    uuid.uuid4().hex, self.spec.memory_mb, self.spec.ephemeral_mb, None
                )
            except (OSError, TimeoutError):
                return
            if self.closing():  # closed while we forked
                await asyncio.to_thread(forked.discard, self._sandbox)
                return
            self._standby.append(forked)

    def closing(self) -> bool:
        return self._closing

    def alive(self) -> bool:
        """The template process runs (it may be closed and still have environments)."""
        return self._control is not None and not self._control.closed

    def standby_count(self) -> int:
        return len(self._standby)

    def _variables(self, env: EnvironmentSpec) -> dict[str, str]:
        variables = {**self.spec.base_env, **env.env}
        if self._moved:
            variables = {k: rootfs.rewrite(v, self._moved) for k, v in variables.items()}
        variables["AWS_LAMBDA_RUNTIME_API"] = RUNTIME_API_ADDRESS
        return variables

    # -- close -----------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop forking. The template lives on, unseen, until its last environment exits."""
        self._closing = True
        standby, self._standby = self._standby, []
        for forked in standby:
            await asyncio.to_thread(forked.discard, self._sandbox)
        control = self._control
        if control is not None and not control.closed:
            with contextlib.suppress(OSError):
                control.send({"op": "close"})
        if self._init_slot is not None:
            slot, self._init_slot = self._init_slot, None
            await asyncio.to_thread(self._sandbox.network.release, slot)

    def kill(self) -> None:
        """Sandbox.close(): end the template and, with it, every environment it forked."""
        self._closing = True
        standby, self._standby = self._standby, []
        for forked in standby:
            forked.discard(self._sandbox)
        if self._control is not None:
            self._control.shutdown()
        if self._uid is not None:
            self._sandbox.uids.give_back(self._uid)
            self._uid = None
