"""The host side of one version's template (lambent_guest/version_template.py is the other).

A template is forked from its runtime's zygote (zygotes.py) with the version's code and
layers mounted (mounts.py); it then forks the version's environments (spawner.py) and keeps
`standby_per_template` of them isolated and parked, ready for a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any

from lambent.sandbox.interface import EnvironmentSpec, SnapStartReport, TemplateSpec
from lambent.sandbox.namespaces import mounts
from lambent.sandbox.namespaces.control import Control, OutputPipe
from lambent.sandbox.namespaces.environment import RUNTIME_API_ADDRESS, NamespaceEnvironment
from lambent.sandbox.namespaces.spawner import Forked, ForkRequest, Spawner, SpawnFailed

if TYPE_CHECKING:
    from lambent.sandbox.namespaces.backend import NamespacesSandbox
    from lambent.sandbox.namespaces.zygotes import RuntimeZygote


class TemplateFailed(OSError):
    """The template process could not start (its output explains why)."""


class NamespaceTemplate:
    def __init__(self, sandbox: NamespacesSandbox, spec: TemplateSpec) -> None:
        self.spec = spec
        self.snapstart_report: SnapStartReport | None = None
        self._sandbox = sandbox
        self._userns = spec.snapstart
        self._uid: int | None = None
        self._exits: dict[str, asyncio.Future[int]] = {}
        self._control: Control | None = None
        self._output: OutputPipe | None = None
        self._init_slot: Any = None
        self._standby: list[Forked] = []
        self._refill: asyncio.Task[None] | None = None
        self._closing = False
        self.timings: dict[str, float] = {}

    # -- start -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Fork the template from the runtime's zygote, then its first standby, so the first
        request finds both ready (a function is Active only once this is done)."""
        began = time.perf_counter()
        try:
            config = await self._config()
            for attempt in range(2):
                zygote = await self._sandbox.zygotes.get(self.spec)
                self.timings.setdefault("zygote", (time.perf_counter() - began) * 1000)
                reply = await self._launch(zygote, config, began)
                # A zygote that died with our request in its queue: once more, on a new one.
                if reply["op"] == "ready" or attempt or not zygote.exited():
                    break
        except BaseException:
            await self.close()
            raise
        await self._started(reply)
        self.timings["ready"] = (time.perf_counter() - began) * 1000
        await self._refill_standby(delay_s=0.0)
        self.timings["standby"] = (time.perf_counter() - began) * 1000

    async def _launch(
        self, zygote: RuntimeZygote, config: dict[str, Any], began: float
    ) -> dict[str, Any]:
        """Send one template request; the template's first message (ready or failed)."""
        if self._control is not None:  # a previous attempt's
            self._control.shutdown()
        if self._output is not None:
            self._output.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        out_r, out_w = os.pipe()
        self._output = OutputPipe(out_r)
        self._control = control = Control(ours, self._on_exit, self._on_eof)
        names: list[str] = ["control", "output"]
        fds: list[int] = [theirs.detach(), out_w]
        try:
            if self._init_slot is not None:
                names.append("netns")
                fds.append(os.dup(self._init_slot.netns_fd))
            for name, fd in mounts.version_mounts(self.spec, self._sandbox.idmap).items():
                names.append(name)
                fds.append(fd)
            config["sent_at"] = time.perf_counter()  # CLOCK_MONOTONIC: comparable inside
            self.timings["sending"] = (time.perf_counter() - began) * 1000
            zygote.launch({"op": "template", "fds": names, "config": config}, fds)
        except OSError as err:
            return {"op": "failed", "error": f"the runtime's zygote: {err}"}
        finally:
            for fd in fds:
                os.close(fd)
        try:
            return await asyncio.wait_for(
                asyncio.shield(control.start), self._sandbox.config.template_timeout_s
            )
        except TimeoutError:
            return {"op": "failed", "error": "the template did not start in time"}

    async def _started(self, reply: dict[str, Any]) -> None:
        assert self._output is not None
        if reply["op"] != "ready":
            await self.close()
            detail = self._output.text()
            raise TemplateFailed(
                f"template for {self.spec.function_name}: {reply.get('error')}"
                + (f"\n{detail}" if detail else "")
            )
        sent = self.timings.get("sending", 0.0)
        for step, ms in dict(reply.get("timings") or {}).items():
            self.timings[f"guest_{step}"] = sent + float(ms)
        snap = reply.get("snapstart")
        if snap is not None:
            # The template printed its init output before "ready"; take all of it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._output.done), 2.0)
            self.snapstart_report = SnapStartReport(
                ok=bool(snap["ok"]),
                init_duration_ms=float(snap["init_duration_ms"]),
                error_type=snap.get("error_type"),
                error_message=snap.get("error_message"),
                output=bytes(self._output.data),
            )

    async def _config(self) -> dict[str, Any]:
        spec, sandbox = self.spec, self._sandbox
        config: dict[str, Any] = {
            "kind": spec.launch.kind,
            "userns": self._userns,
            "snapstart": spec.snapstart,
            "env": dict(spec.base_env),
        }
        if self._userns:
            self._uid = sandbox.uids.take()
            config.update(uid=self._uid, gid=self._uid)
            config["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] = "snap-start"
            # The template's own network during init: a slot of its own.
            self._init_slot = await sandbox.take_slot(spec.network == "egress")
        return config

    def process_pid(self) -> int | None:
        """Host pid of the template process (PID 1 of its own pid namespace), if running."""
        control = self._control
        if control is None or control.closed:
            return None
        return control.template_pid

    def memory_bytes(self) -> int:
        """What keeping this template costs: the PSS of its process and of its standby
        forks (a blocking read of /proc; call it off the event loop)."""
        pids = [self.process_pid(), *self.standby_pids()]
        return sum(_pss_bytes(pid) for pid in pids if pid is not None)

    def standby_pids(self) -> list[int]:
        return [f.pid for f in self._standby]

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
        if self._closing and self._uid is not None:  # SnapStart: no environment uses it now
            self._sandbox.uids.give_back(self._uid)
            self._uid = None

    # -- spawn -----------------------------------------------------------------------------
    async def spawn(self, env: EnvironmentSpec) -> NamespaceEnvironment:
        control = self._control
        if control is None or control.closed or self._closing:
            raise TemplateFailed("the template process is closed")
        started = time.perf_counter()
        run = (self._variables(env), list(self.spec.launch.argv))
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

    async def _refill_standby(self, delay_s: float | None = None) -> None:
        # Not right away after a spawn: the environment just handed out is running its init
        # now, and a fork plus its setup would compete with it for the CPU.
        if delay_s is None:
            delay_s = self._sandbox.config.standby_refill_delay_s
        if delay_s > 0:
            await asyncio.sleep(delay_s)
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
        if self._output is not None:
            self._output.close()
        if self._uid is not None:
            self._sandbox.uids.give_back(self._uid)
            self._uid = None


def _pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
