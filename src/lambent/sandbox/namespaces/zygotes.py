"""The runtimes' zygotes, host side: one process per runtime, started on first use.

A zygote (lambent_guest/zygote.py) is the runtime's interpreter with Lambent's guest code
and the runtime's bootstrap loaded, pivoted into the runtime's read-only root: the small
launcher (/usr/bin/python3.11) builds the root, then a Python runtime's zygote re-executes
as /var/lang/bin/python3.X inside it. Every
version's template is a fork of it (template.py sends the request), so starting a template
costs a fork and two mounts instead of an interpreter start (docs/SANDBOX.md, "Templates").

Runtimes that differ in interpreter, image, guest code or argv get different zygotes. A
zygote that dies is started again by the next template request; templates already forked
do not depend on it (each has its own control socket to the host).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
from typing import TYPE_CHECKING, Any

from lambent.private_files import FUNCTION_UMASK
from lambent.sandbox.interface import TemplateSpec
from lambent.sandbox.namespaces import rootfs
from lambent.sandbox.namespaces.control import Control, OutputPipe

if TYPE_CHECKING:
    from lambent.sandbox.namespaces.backend import NamespacesSandbox

BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from lambent_guest.zygote import main; main()"
# (interpreter inside the root to re-execute as, or "" to stay the launcher; the runtime's
# kind; its image; the guest code; the runtime's argv, which /lambda-entrypoint.sh names)
ZygoteKey = tuple[str, str, str, str, tuple[str, ...]]


class ZygoteFailed(OSError):
    """The zygote could not start (its output explains why)."""


def zygote_key(spec: TemplateSpec) -> ZygoteKey:
    """What a runtime's root and loaded code depend on. A Python runtime's zygote becomes
    that runtime's interpreter; node and custom runtimes are forked from the small Python
    launcher (their environments `execve` the runtime)."""
    launch = spec.launch
    interpreter = launch.interpreter if launch.kind == "python" and launch.interpreter else ""
    image = str(launch.image) if launch.image is not None else ""
    return (interpreter, launch.kind, image, str(spec.guest_dir), launch.argv)


class RuntimeZygote:
    def __init__(self, sandbox: NamespacesSandbox, key: ZygoteKey) -> None:
        self.key = key
        self._sandbox = sandbox
        self._process: subprocess.Popen[bytes] | None = None
        self._control: Control | None = None
        self._output: OutputPipe | None = None

    async def start(self, spec: TemplateSpec) -> None:
        interpreter, kind, _image, guest, _argv = self.key
        launcher = self._sandbox.config.zygote_python
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        out_r, out_w = os.pipe()
        try:
            # The launcher needs no site-packages (-S): a Python runtime's zygote re-executes
            # as the runtime's own interpreter once the root is built.
            self._process = subprocess.Popen(
                [launcher, "-I", "-S", "-B", "-c", BOOT, guest, str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=out_w,
                pass_fds=(theirs.fileno(),),
                env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
                cwd="/",
                umask=FUNCTION_UMASK,  # not the server's private one
            )
        finally:
            theirs.close()
            os.close(out_w)
        self._sandbox.adopt_template(self._process.pid)  # it forks nothing before its message
        self._output = OutputPipe(out_r)
        self._control = Control(ours, on_exit=_ignore, on_eof=self._on_eof)
        staging = self._sandbox.staging_dir
        self._control.send(
            {
                "op": "zygote",
                "kind": kind,
                "root": rootfs.plan(spec, staging, owner=self._sandbox.config.root_uid),
                "exec": interpreter or None,
            }
        )
        timeout = self._sandbox.config.template_timeout_s
        try:
            reply = await asyncio.wait_for(asyncio.shield(self._control.start), timeout)
        except TimeoutError:
            reply = {"op": "failed", "error": "the runtime's zygote did not start in time"}
        if reply["op"] != "ready":
            await self.close()
            detail = self._output.text()
            raise ZygoteFailed(
                f"zygote of {spec.launch.name}: {reply.get('error')}"
                + (f"\n{detail}" if detail else "")
            )

    def launch(self, message: dict[str, Any], fds: list[int]) -> None:
        """Ask for a template (OSError if the zygote is gone: start another and retry)."""
        control = self._control
        if control is None or control.closed:
            raise ConnectionResetError("the runtime's zygote is gone")
        control.send(message, fds)

    def alive(self) -> bool:
        return not self.exited()

    def exited(self) -> bool:
        """The zygote is gone. Its sockets close before it can be reaped, and a request
        queued on them is dropped unread: the socket tells first."""
        control, process = self._control, self._process
        if control is None or process is None or control.peer_gone():
            return True
        return process.poll() is not None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def _on_eof(self) -> None:
        if self._process is not None:
            self._process.poll()  # reap it if it is already gone

    async def close(self) -> None:
        if self._control is not None:
            with contextlib.suppress(OSError):
                self._control.send({"op": "close"})
            self._control.shutdown()
        process = self._process
        if process is not None:
            try:
                await asyncio.wait_for(asyncio.to_thread(process.wait), 5.0)
            except TimeoutError:
                process.kill()
                await asyncio.to_thread(process.wait)
        if self._output is not None:
            self._output.close()


class Zygotes:
    """One zygote per runtime key, started on first use and again after it died."""

    def __init__(self, sandbox: NamespacesSandbox) -> None:
        self._sandbox = sandbox
        self._running: dict[ZygoteKey, RuntimeZygote] = {}
        self._starting: dict[ZygoteKey, asyncio.Task[RuntimeZygote]] = {}
        self.started = 0

    async def get(self, spec: TemplateSpec) -> RuntimeZygote:
        key = zygote_key(spec)
        running = self._running.get(key)
        if running is not None and running.alive():
            return running
        task = self._starting.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._start(key, spec))
            self._starting[key] = task
            task.add_done_callback(lambda _t: self._starting.pop(key, None))
        return await asyncio.shield(task)

    async def _start(self, key: ZygoteKey, spec: TemplateSpec) -> RuntimeZygote:
        old = self._running.pop(key, None)
        if old is not None:
            await old.close()
        zygote = RuntimeZygote(self._sandbox, key)
        try:
            await zygote.start(spec)
        except asyncio.CancelledError:
            await zygote.close()
            raise
        self._running[key] = zygote
        self.started += 1
        return zygote

    def running(self) -> list[RuntimeZygote]:
        return [z for z in self._running.values() if z.alive()]

    async def close(self) -> None:
        for task in list(self._starting.values()):
            task.cancel()
        zygotes, self._running = list(self._running.values()), {}
        for zygote in zygotes:
            await zygote.close()


def _ignore(*_: object) -> None:
    return None
