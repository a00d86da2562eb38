"""The template of one function version: PID 1 of its own pid namespace, forks environments.

Forked from the runtime's zygote (zygote.py) as PID 1 of a new pid namespace, it mounts
the version's code at /var/task and its layers at /opt in a copy of the zygote's mount
namespace. It finds the runtime loaded and only adds what is the version's own: its
variables, a `PythonRuntime` built from them (the handler is NOT imported), and for
SnapStart the init itself (in its own user namespace, below a reaper).

It then serves `spawn` requests from the host, one fork each, and reports exits.
Single-threaded by design: fork copies only the calling thread.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn

from . import linux, sandbox_child, wire

HOST_PROC_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC


def launch(
    control: socket.socket,
    config: dict[str, Any],
    fds: dict[str, int],
    host_proc: int,
    programs: dict[str, Any],
) -> NoReturn:
    """The zygote's fresh fork, PID 1 of a new pid namespace: mount the version's code and
    layers, then become its template (or, for SnapStart, the reaper that forks it inside
    the template's user namespace). Never returns."""
    sent_at = float(config.get("sent_at") or 0.0)
    marks: dict[str, float] = {}

    def mark(step: str) -> None:
        marks[step] = (time.perf_counter() - sent_at) * 1000.0 if sent_at else 0.0

    mark("forked")
    try:
        sandbox_child.apply_lambda_rlimits()  # still root: hard limits may be raised
        output = fds["output"]
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        # A copy of the zygote's mount namespace: the runtime's read-only root.
        linux.unshare(linux.CLONE_NEWNS)
        for name, target in (("task", "/var/task"), ("opt", "/opt")):
            mount = fds.get(name)
            if mount is not None:
                linux.move_mount(mount, target)
                os.close(mount)
        mark("mounts")
        if config["userns"]:
            host_proc = _snapstart_reaper(control, config, fds["netns"], host_proc)
        # PID 1 of our pid ns: its ns file lets us reset `pid_ns_for_children` after each
        # fork. The host's /proc is dropped before anything else runs.
        pidns_fd = os.open("self/ns/pid", os.O_RDONLY | os.O_CLOEXEC, dir_fd=host_proc)
        os.close(host_proc)
    except BaseException as err:
        with contextlib.suppress(OSError):
            wire.send(control, {"op": "failed", "error": f"{type(err).__name__}: {err}"})
        os._exit(1)
    Template(control, config, pidns_fd, programs).serve(marks, mark)
    os._exit(0)


def _snapstart_reaper(
    control: socket.socket, config: dict[str, Any], netns: int, host_proc: int
) -> int:
    """SnapStart: stay PID 1 ("the reaper") of a pid ns holding only this template's
    processes; mount that ns's /proc (a user namespace may only mount proc where a proc is
    already fully visible, and the host's must not be) and drop the host's, enter the
    template's user namespace and fork the template there, PID 1 of a pid ns that namespace
    owns. Returns, in the template, the reaper's /proc."""
    linux.setns(netns, linux.CLONE_NEWNET)
    os.close(netns)
    linux.mount("proc", "/proc", "proc", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC)
    proc = os.open("/proc", HOST_PROC_FLAGS)
    os.close(host_proc)
    sandbox_child.enter_user_namespace(proc, config["uid"], config["gid"])
    linux.unshare(linux.CLONE_NEWPID)
    if os.fork():
        control.close()
        _reap_until_empty()
        os._exit(0)
    return proc


def _reap_until_empty() -> None:
    quiet_stdio()
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue


class Template:
    """PID 1 of the template's pid namespace: forks environments and reaps them."""

    def __init__(
        self,
        control: socket.socket,
        config: dict[str, Any],
        pidns_fd: int,
        programs: dict[str, Any],
    ) -> None:
        self.control = control
        self.config = config
        self.pidns_fd = pidns_fd
        self.children: dict[int, str] = {}
        self.closing = False
        self.runtime: Any = None
        self.restored = False
        self.program = programs["environment"]
        self._template_program = programs["template"]
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)

    def serve(self, timings: dict[str, float], mark: Callable[[str], None]) -> None:
        """`timings`: ms since the host sent the request, per step (for profiles)."""
        ready: dict[str, Any] = {"op": "ready", "timings": timings}
        try:
            self._load_runtime(ready)
        except BaseException as err:
            wire.send(self.control, {"op": "failed", "error": f"{type(err).__name__}: {err}"})
            os._exit(1)
        mark("loaded")
        sys.stdout.flush()
        sys.stderr.flush()
        quiet_stdio()
        wire.send(self.control, ready)
        gc.collect()
        gc.freeze()  # keep the GC from dirtying shared pages in every child
        while True:
            control = self.control.fileno()
            readable, _, _ = select.select([control, self.wake_r], [], [])
            if self.wake_r in readable:
                _drain(self.wake_r)
                self._reap()
            if control in readable:
                self._handle_control()
            if self.closing and not self.children:
                os._exit(0)

    def _load_runtime(self, ready: dict[str, Any]) -> None:
        """The zygote imported the bootstrap (from /var/runtime); the version's own runtime
        object is built here from its variables. SnapStart also runs init here."""
        if self.config["kind"] != "python":
            return
        os.environ.clear()
        os.environ.update(self.config["env"])
        from . import bootstrap  # type: ignore[attr-defined,unused-ignore]

        self.runtime = bootstrap.PythonRuntime(os.environ)
        if not self.config["snapstart"]:
            return
        self._template_program.install()
        ready["snapstart"] = self._snapstart_init()
        self.restored = True

    def _snapstart_init(self) -> dict[str, Any]:
        """Run init here, once: every environment forked afterwards is a restore."""
        os.chdir("/var/task")
        sandbox_child.apply_pythonpath(dict(os.environ))  # unprivileged by now
        started = time.perf_counter()
        outcome = self.runtime.init()
        report: dict[str, Any] = {
            "ok": bool(getattr(outcome, "ok", outcome is None or outcome is True)),
            "error_type": getattr(outcome, "error_type", None),
            "error_message": getattr(outcome, "error_message", None),
        }
        if report["ok"]:
            try:
                import snapshot_restore_py  # type: ignore[import-not-found,unused-ignore]

                run_before = snapshot_restore_py.run_before_snapshot
                run_before()
            except ImportError:
                pass
            except BaseException as err:
                report.update(
                    ok=False, error_type="Runtime.BeforeSnapshotError", error_message=str(err)
                )
        report["init_duration_ms"] = (time.perf_counter() - started) * 1000.0
        return report

    def _handle_control(self) -> None:
        message, fds = wire.recv(self.control)
        if message is None:  # the host is gone: take every environment with us
            for pid in self.children:
                _kill(pid)
            os._exit(0)
        if message["op"] == "spawn" and self.closing:
            for fd in fds:
                os.close(fd)
            wire.send(
                self.control,
                {"op": "spawn_failed", "id": message["id"], "error": "the template is closing"},
            )
        elif message["op"] == "spawn":
            self._spawn(message, fds)
        elif message["op"] == "close":
            self.closing = True
            for fd in fds:
                os.close(fd)
        else:
            for fd in fds:
                os.close(fd)

    def _spawn(self, message: dict[str, Any], fds: list[int]) -> None:
        env_id = str(message["id"])
        try:
            linux.unshare(linux.CLONE_NEWPID)
            message["forked_at"] = time.perf_counter()
            pid = os.fork()
        except OSError as err:
            # Back to our own pid ns for children, or every later unshare would fail.
            with contextlib.suppress(OSError):
                linux.setns(self.pidns_fd, linux.CLONE_NEWPID)
            for fd in fds:
                os.close(fd)
            wire.send(self.control, {"op": "spawn_failed", "id": env_id, "error": str(err)})
            return
        if pid == 0:
            sandbox_child.become_environment(self, message, fds)
        linux.setns(self.pidns_fd, linux.CLONE_NEWPID)
        for fd in fds:
            os.close(fd)
        self.children[pid] = env_id
        wire.send(self.control, {"op": "spawned", "id": env_id})

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            env_id = self.children.pop(pid, None)
            if env_id is not None:
                wire.send(self.control, {"op": "exited", "id": env_id, "status": status})


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def quiet_stdio() -> None:
    """After startup a template or zygote prints nothing; environments get their own pipes."""
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
