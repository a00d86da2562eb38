"""The runtime's zygote: one process per runtime, forks the template of each function version.

Started by the host as `/usr/bin/python3.11 -I -S -B -c <boot> <guest dir> <control fd>`
(the launcher). It:

1. builds the runtime's root filesystem (everything but a function's code and layers) and
   pivots into it (sandbox_root);
2. for a Python runtime, re-executes itself as that runtime's interpreter inside the root
   (`/var/lang/bin/python3.X -I -B`, `resume()`; the configuration crosses the exec in a
   memfd), so the process every template and environment is forked from has sys.prefix
   /var/lang and modules from /var/lang and /var/runtime only; for the others, imports
   Lambent's guest package again from /var/runtime. Either way no module it keeps (and no
   environment forked from it) names a host path;
3. loads once what every template needs: the runtime's bootstrap (Python runtimes; the
   handler is never imported here), libc, the seccomp programs; then freezes the GC;
4. serves `template` requests: each forks, as PID 1 of a new pid namespace, the version's
   template, which mounts the version's code and layers (detached mounts the host made)
   in a copy of the zygote's mount namespace (version_template.py).

Why a zygote: a template used to be a fresh interpreter, ~65 ms of start-up, compiling the
guest modules, importing the bootstrap and building the root's mounts. A fork of this
process pays none of that (see "Templates" in docs/SANDBOX.md). The zygote itself never runs
function code and holds no function's files. Single-threaded by design: fork copies only
the calling thread.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
from typing import Any, NoReturn

from . import linux, sandbox_root, wire

GUEST = "/var/runtime"
PACKAGE = "lambent_guest"
HOST_PROC_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[2]))
    config, fds = wire.recv(control)
    for fd in fds:
        os.close(fd)
    if config is None:
        os._exit(1)
    try:
        linux.libc()
        linux.last_capability()  # from the host's /proc, while we still see it
        host_proc = os.open("/proc", HOST_PROC_FLAGS)
        sandbox_root.build(config["root"])
        if config.get("exec"):
            _reexec(control, config, host_proc)
        cap_last = linux.last_capability()
        fresh = _import_from_runtime_dir()
        fresh.linux.assume_last_capability(cap_last)
        zygote = fresh.RuntimeZygote(control, config, host_proc)
    except BaseException as err:
        wire.send(control, {"op": "failed", "error": f"{type(err).__name__}: {err}"})
        os._exit(1)
    zygote.serve()


RESUME = (
    "import sys; sys.path.insert(0, sys.argv[1]); from lambent_guest.zygote import resume; resume()"
)


def _reexec(control: socket.socket, config: dict[str, Any], host_proc: int) -> NoReturn:
    """Become the runtime's own interpreter, inside the root just built. The configuration
    crosses the exec in a memfd; the control socket and the host's /proc are inherited."""
    kept = {k: v for k, v in config.items() if k != "root"}
    kept["cap_last"] = linux.last_capability()
    memfd = os.memfd_create("lambent-zygote", 0)
    data = json.dumps(kept).encode()
    while data:
        data = data[os.write(memfd, data) :]
    passed = (control.fileno(), memfd, host_proc)
    for fd in passed:
        os.set_inheritable(fd, True)
    interpreter = str(config["exec"])
    env = {
        "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        # Where a pyenv build's libpython is (its executable also says so, relatively,
        # when the image was built with patchelf).
        "LD_LIBRARY_PATH": "/var/lang/lib",
    }
    argv = [interpreter, "-I", "-B", "-c", RESUME, GUEST, *map(str, passed)]
    os.execve(interpreter, argv, env)


def resume() -> None:
    """The re-executed zygote: in its root already, with this package from /var/runtime."""
    control_fd, memfd, host_proc = (int(a) for a in sys.argv[2:5])
    for fd in (control_fd, host_proc):
        os.set_inheritable(fd, False)
    control = socket.socket(fileno=control_fd)
    try:
        os.lseek(memfd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(memfd, 1 << 16):
            chunks.append(chunk)
        os.close(memfd)
        config = json.loads(b"".join(chunks))
        linux.assume_last_capability(int(config["cap_last"]))
        zygote = RuntimeZygote(control, config, host_proc)
    except BaseException as err:
        wire.send(control, {"op": "failed", "error": f"{type(err).__name__}: {err}"})
        os._exit(1)
    zygote.serve()


def _import_from_runtime_dir() -> Any:
    """This package came from the host's checkout (the boot line's path); after the pivot
    it is at /var/runtime. Forget every module loaded from the host and load them again
    from there, so tracebacks and `__file__` inside environments show /var/runtime."""
    host_guest = sys.argv[1]
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    sys.path[:] = [GUEST, *(p for p in sys.path if p and p != host_guest and os.path.isdir(p))]
    importlib.invalidate_caches()
    return importlib.import_module(f"{PACKAGE}.zygote")


class RuntimeZygote:
    """Forks one template per request and reaps them when they exit."""

    def __init__(self, control: socket.socket, config: dict[str, Any], host_proc: int) -> None:
        from . import seccomp, version_template

        self.control = control
        self.kind = str(config["kind"])
        self.host_proc = host_proc
        self._launch = version_template.launch
        self._quiet = version_template.quiet_stdio
        if self.kind == "python":
            from . import bootstrap  # type: ignore[attr-defined,unused-ignore]  # noqa: F401
        linux.last_capability()
        # Compiled once; every template and environment installs the same bytes.
        self.programs = {
            "environment": seccomp.environment_program(),
            "template": seccomp.template_program(),
        }
        # Our own pid ns: each fork goes into a new one, then we come back (setns).
        self.pidns_fd = os.open("self/ns/pid", os.O_RDONLY | os.O_CLOEXEC, dir_fd=host_proc)
        self.children = 0
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)

    def serve(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self._quiet()
        wire.send(self.control, {"op": "ready"})
        gc.collect()
        gc.freeze()  # templates and environments share these pages; the GC must not dirty them
        while True:
            control = self.control.fileno()
            readable, _, _ = select.select([control, self.wake_r], [], [])
            if self.wake_r in readable:
                _drain(self.wake_r)
                self._reap()
            if control in readable:
                self._handle()

    def _handle(self) -> None:
        message, fds = wire.recv(self.control)
        if message is None or message.get("op") == "close":
            # The host is gone or done with us. Templates already forked live on: each
            # has its own control socket to the host.
            os._exit(0)
        if message.get("op") != "template":
            for fd in fds:
                os.close(fd)
            return
        named = dict(zip(message["fds"], fds, strict=True))
        try:
            # The child is PID 1 of a new pid namespace: the template (or SnapStart's reaper).
            linux.unshare(linux.CLONE_NEWPID)
            pid = os.fork()
        except OSError as err:
            with contextlib.suppress(OSError):
                linux.setns(self.pidns_fd, linux.CLONE_NEWPID)
            _fail(named, f"fork: {err}")
            return
        if pid == 0:
            self._forget_zygote()
            ctl = socket.socket(fileno=named.pop("control"))
            self._launch(ctl, message["config"], named, self.host_proc, self.programs)
        linux.setns(self.pidns_fd, linux.CLONE_NEWPID)
        for fd in fds:
            os.close(fd)
        self.children += 1

    def _forget_zygote(self) -> None:
        """What a template must not keep of the zygote: its control socket and wake-ups."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(self.wake_r)
        os.close(self.wake_w)
        os.close(self.pidns_fd)
        self.control.close()

    def _reap(self) -> None:
        """Templates are our children until they exit (after their last environment)."""
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children -= 1


def _fail(named: dict[str, int], error: str) -> None:
    ctl = named.get("control")
    if ctl is not None:
        sock = socket.socket(fileno=ctl)
        with contextlib.suppress(OSError):
            wire.send(sock, {"op": "failed", "error": error})
        named.pop("control")
        sock.close()
    for fd in named.values():
        os.close(fd)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


if __name__ == "__main__":
    main()
