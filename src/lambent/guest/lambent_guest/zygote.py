"""The template process of one function version: loads the runtime once, forks environments.

Started by the host as `<interpreter> -I -B -c <boot> <guest dir> <control fd>`. It then:

1. builds the template's root filesystem and pivots into it (sandbox_root);
2. for SnapStart, joins its own network slot and becomes uid 993 of its own user namespace,
   mapped to one unprivileged host uid, before any user code runs;
3. unshares a pid namespace and forks: the template proper is PID 1 of that namespace (so
   it may reset `pid_ns_for_children` between forks), the launcher exits;
4. imports the runtime's bootstrap (never the handler, unless SnapStart runs init here);
5. serves `spawn` requests from the host, one fork each, and reports exits.

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
from typing import Any

from . import linux, sandbox_child, sandbox_root, seccomp, wire

HOST_PROC_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[2]))
    config, fds = wire.recv(control)
    if config is None:
        os._exit(1)
    reaper = False
    try:
        linux.libc()
        linux.last_capability()
        host_proc = os.open("/proc", HOST_PROC_FLAGS)
        sandbox_root.build(config["root"])
        if config["userns"]:
            host_proc = _enter_reaper(config, fds, host_proc)
            reaper = True
        linux.unshare(linux.CLONE_NEWPID)
        pid = os.fork()
        if pid == 0:
            # PID 1 of the new pid ns now exists, so its ns file can be opened; the host's
            # /proc is dropped before anything else runs.
            pidns_fd = os.open("self/ns/pid", os.O_RDONLY | os.O_CLOEXEC, dir_fd=host_proc)
            os.close(host_proc)
    except BaseException as err:
        wire.send(control, {"op": "failed", "error": f"{type(err).__name__}: {err}"})
        os._exit(1)
    if pid:
        if reaper:
            control.close()
            _reap_until_empty()
        os._exit(0)
    Template(control, config, pidns_fd).serve()


def _enter_reaper(config: dict[str, Any], fds: list[int], host_proc: int) -> int:
    """SnapStart: become PID 1 ("the reaper") of a pid ns holding only this template's
    processes, mount that ns's /proc (a user namespace may only mount proc where a proc is
    already fully visible, and the host's must not be), then drop into the template's user
    namespace. Returns the new /proc. The launcher itself exits."""
    linux.setns(fds[0], linux.CLONE_NEWNET)
    os.close(fds[0])
    linux.unshare(linux.CLONE_NEWPID)
    if os.fork():
        os._exit(0)
    os.close(host_proc)
    linux.mount("proc", "/proc", "proc", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC)
    proc = os.open("/proc", HOST_PROC_FLAGS)
    sandbox_child.enter_user_namespace(proc, config["uid"], config["gid"])
    return proc


def _reap_until_empty() -> None:
    _quiet_stdio()
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue


class Template:
    """PID 1 of the template's pid namespace: forks environments and reaps them."""

    def __init__(self, control: socket.socket, config: dict[str, Any], pidns_fd: int) -> None:
        self.control = control
        self.config = config
        self.pidns_fd = pidns_fd
        self.children: dict[int, str] = {}
        self.closing = False
        self.runtime: Any = None
        self.restored = False
        self.program = seccomp.environment_program()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)

    def serve(self) -> None:
        ready: dict[str, Any] = {"op": "ready"}
        try:
            self._load_runtime(ready)
        except BaseException as err:
            wire.send(self.control, {"op": "failed", "error": f"{type(err).__name__}: {err}"})
            os._exit(1)
        sys.stdout.flush()
        sys.stderr.flush()
        _quiet_stdio()
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
        """Import the bootstrap from /var/runtime (never from the host path we came from,
        never from /var/task or /opt); SnapStart also runs init here."""
        guest = "/var/runtime"
        host_guest = sys.argv[1]
        sys.path[:] = [guest, *(p for p in sys.path if p and p != host_guest and os.path.isdir(p))]
        package = sys.modules[__package__ or "lambent_guest"]
        package.__path__ = [f"{guest}/lambent_guest"]
        if self.config["kind"] != "python":
            return
        os.environ.clear()
        os.environ.update(self.config["env"])
        from . import bootstrap  # type: ignore[attr-defined,unused-ignore]

        self.runtime = bootstrap.PythonRuntime(os.environ)
        if not self.config["snapstart"]:
            return
        seccomp.template_program().install()
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


def _quiet_stdio() -> None:
    """After startup the template itself prints nothing; its children get their own pipes."""
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    main()
