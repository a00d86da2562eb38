"""What a freshly forked child does to become an isolated execution environment.

Order matters and each step says why:
  1. network: join the slot's netns while still root in the initial user namespace (a netns
     owned by that namespace cannot be entered from inside a new one);
  2. cgroups: write to the cgroup.procs fds the host opened, so every byte allocated from
     here on is charged to the environment;
  3. mount, ipc and uts namespaces; own /proc (we are PID 1 of a new pid ns) and /tmp;
  4. stdio, then the identity: uid 993 (sbx_user1051) in a user namespace of its own
     mapped to one unprivileged host uid (SnapStart: nested in the template's), then
     RLIMIT_NPROC (counted per user namespace and uid; the other limits come from the
     template); every capability dropped; no_new_privs; the seccomp filter last, since it
     forbids the calls above;
  5. report to the host over the environment's control socket, close everything else, and
     run the runtime (the loaded Python bootstrap, or execve of node / a custom bootstrap).
Any failure exits 127 after telling the host why.
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import signal
import socket
import sys
import time
import traceback
from typing import Any, NoReturn

from . import linux, wire

SANDBOX_UID = 993  # sbx_user1051, as on Lambda
SANDBOX_GID = 990
RUNTIME_API_ADDRESS = ("127.0.0.1", 9001)
NOFILE = 1024
_UNLIMITED = resource.RLIM_INFINITY
# The resource limits (soft, hard) of a process in a Lambda execution environment, as
# recorded on AWS (docs/SANDBOX.md, "Resource limits").
LAMBDA_RLIMITS: tuple[tuple[int, tuple[int, int]], ...] = (
    (resource.RLIMIT_CORE, (10737418240, 10737418240)),
    (resource.RLIMIT_MEMLOCK, (65536, 65536)),
    (resource.RLIMIT_NOFILE, (NOFILE, NOFILE)),
    (resource.RLIMIT_STACK, (8388608, _UNLIMITED)),
    (resource.RLIMIT_AS, (_UNLIMITED, _UNLIMITED)),
    (resource.RLIMIT_CPU, (_UNLIMITED, _UNLIMITED)),
    (resource.RLIMIT_DATA, (_UNLIMITED, _UNLIMITED)),
    (resource.RLIMIT_FSIZE, (_UNLIMITED, _UNLIMITED)),
    (resource.RLIMIT_RSS, (_UNLIMITED, _UNLIMITED)),
)
# Processes (threads) per environment. Counted by the kernel per (user namespace, uid):
# every environment has a user namespace of its own, so one cannot starve another.
NPROC = 742


def apply_lambda_rlimits() -> None:
    """Lambda's limits. Raising a hard limit needs CAP_SYS_RESOURCE in the initial user
    namespace, so this runs in the template while it is still root there (every
    environment, and a SnapStart template's init, inherit them); RLIMIT_NPROC is set by
    each environment once it has its own user namespace (see `_own_process_count`)."""
    for limit, values in LAMBDA_RLIMITS:
        resource.setrlimit(limit, values)


SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914


def enter_user_namespace(
    proc_dir: int, host_uid: int, host_gid: int, *, map_self: bool = True
) -> None:
    """Become uid 993 / gid 990 of a new user namespace, as host uid/gid `host_uid`.

    Dropping to the unprivileged host uid first means the new namespace is owned by it, and
    whatever capabilities the creator gets apply to this namespace only. `map_self`: write
    the one mapping an unprivileged process may (993 -> `host_uid`); else the host writes
    the maps once we report "up" (an environment's: 993 -> its uid and 0 -> the sandbox's
    root, which needs the host's privileges) and we wait for its "go" before running.
    """
    os.setgroups([])
    os.setresgid(host_gid, host_gid, host_gid)
    os.setresuid(host_uid, host_uid, host_uid)
    linux.prctl(linux.PR_SET_DUMPABLE, 1)  # else /proc/self/*_map stay root-owned
    linux.unshare(linux.CLONE_NEWUSER)
    _write_at(proc_dir, "self/setgroups", "deny")
    if map_self:
        _write_at(proc_dir, "self/uid_map", f"{SANDBOX_UID} {host_uid} 1")
        _write_at(proc_dir, "self/gid_map", f"{SANDBOX_GID} {host_gid} 1")


def _own_process_count(proc_dir: int) -> None:
    """SnapStart: environments forked from one template share its uid (993 of the
    template's user namespace). RLIMIT_NPROC counts processes per (user namespace, uid), so
    each environment enters a user namespace of its own, mapping 993/990 to themselves: a
    fork bomb in one environment cannot take the process count of its siblings. (The
    limit of the level above is the template's, unlimited.)"""
    linux.prctl(linux.PR_SET_DUMPABLE, 1)
    linux.unshare(linux.CLONE_NEWUSER)
    _write_at(proc_dir, "self/setgroups", "deny")
    _write_at(proc_dir, "self/uid_map", f"{SANDBOX_UID} {SANDBOX_UID} 1")
    _write_at(proc_dir, "self/gid_map", f"{SANDBOX_GID} {SANDBOX_GID} 1")


def _write_at(dir_fd: int, path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY, dir_fd=dir_fd)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


class _Fds:
    """The fds of a spawn request, by the names the host gave them."""

    def __init__(self, names: list[str], fds: list[int]) -> None:
        self.by_name: dict[str, list[int]] = {}
        for name, fd in zip(names, fds, strict=True):
            self.by_name.setdefault(name, []).append(fd)

    def one(self, name: str) -> int | None:
        values = self.by_name.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[int]:
        return self.by_name.get(name, [])


def become_environment(template: Any, message: dict[str, Any], raw_fds: list[int]) -> NoReturn:
    fds = _Fds(message["fds"], raw_fds)
    ctl_fd = fds.one("ctl")
    assert ctl_fd is not None
    ctl = socket.socket(fileno=ctl_fd)
    try:
        _reset_signals(template)
        timings: dict[str, float] = {}
        extra = _isolate(template, message, fds, timings)
        up = {"op": "up", "timings": timings}
        wire.send(ctl, up, [linux.pidfd_open(os.getpid()), *extra])
        if message.get("await_go"):
            reply, _ = wire.recv(ctl)
            if not reply or reply.get("op") != "go":
                os._exit(127)
        if message.get("standby"):
            # Isolated and parked: wait for an environment's variables (EOF: discarded).
            reply, _ = wire.recv(ctl)
            if not reply or reply.get("op") != "run":
                os._exit(0)
            message = {**message, "env": reply["env"], "argv": reply["argv"]}
        ctl.close()
        os.closerange(4 if fds.one("telemetry") is not None else 3, 1 << 20)
    except BaseException as err:
        try:
            wire.send(ctl, {"op": "error", "error": f"{type(err).__name__}: {err}"})
        finally:
            os._exit(127)
    _exit_like_python(template, message)


def _exit_like_python(template: Any, message: dict[str, Any]) -> NoReturn:
    """Run the runtime and end the process as the interpreter would: sys.exit(3) is exit
    status 3, an uncaught exception prints its traceback and is status 1. The fork never
    returns to the zygote's loop, so it must flush and os._exit itself."""
    code = 0
    try:
        _run(template, message)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _reset_signals(template: Any) -> None:
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.close(template.wake_r)
    os.close(template.wake_w)
    os.close(template.pidns_fd)
    template.control.close()


def _isolate(
    template: Any, message: dict[str, Any], fds: _Fds, timings: dict[str, float]
) -> list[int]:
    """Steps 1-4; returns fds to hand to the host (socket and netns of a self-made netns).
    `timings` gets the time since the fork at the end of each step (ms), for profiles."""
    forked = float(message.get("forked_at", 0.0))

    def mark(step: str) -> None:
        timings[step] = (time.perf_counter() - forked) * 1000.0 if forked else 0.0

    extra: list[int] = []
    mark("start")
    userns = bool(template.config["userns"])
    netns = fds.one("netns")
    if netns is not None:
        linux.setns(netns, linux.CLONE_NEWNET)
        os.close(netns)
    else:
        linux.unshare(linux.CLONE_NEWNET)
    mark("network")
    for fd in fds.all("cgroup"):
        os.write(fd, b"0")
        os.close(fd)
    mark("cgroups")
    linux.unshare(linux.CLONE_NEWNS | linux.CLONE_NEWIPC | linux.CLONE_NEWUTS)
    socket.sethostname(message["hostname"])
    linux.mount("proc", "/proc", "proc", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC)
    if netns is None:
        extra = _own_network()
    tmp = fds.one("tmp")
    if tmp is not None:
        linux.move_mount(tmp, "/tmp")
        os.close(tmp)
    else:
        size = int(message["tmp_mb"])
        linux.mount(
            "tmpfs", "/tmp", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, f"size={size}m,mode=1777"
        )
    mark("mounts")
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    _stdio(fds)
    proc = os.open("/proc", os.O_PATH | os.O_DIRECTORY)
    if not userns:
        enter_user_namespace(proc, int(message["uid"]), int(message["gid"]), map_self=False)
    else:
        _own_process_count(proc)
    os.close(proc)
    resource.setrlimit(resource.RLIMIT_NPROC, (NPROC, NPROC))
    mark("identity")
    linux.drop_all_capabilities()
    template.program.install()
    mark("seccomp")
    return extra


def _own_network() -> list[int]:
    """A netns made here (SnapStart): loopback up, the Runtime API socket bound inside."""
    import fcntl
    import struct

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flags = struct.unpack_from(
        "=H", fcntl.ioctl(probe, SIOCGIFFLAGS, struct.pack("16sH14x", b"lo", 0)), 16
    )[0]
    fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | 1))
    probe.close()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(RUNTIME_API_ADDRESS)
    listener.listen(128)
    netns = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    return [listener.detach(), netns]


def _stdio(fds: _Fds) -> None:
    out = fds.one("output")
    assert out is not None
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    telemetry = fds.one("telemetry")
    if telemetry is not None:
        os.dup2(telemetry, 3)
        os.close(telemetry)


def _run(template: Any, message: dict[str, Any]) -> None:
    os.chdir("/var/task")
    env = {str(k): str(v) for k, v in message["env"].items()}
    argv = [str(a) for a in message["argv"]]
    if template.config["kind"] != "python":
        for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        os.execve(argv[0], argv, env)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = argv
    runtime = template.runtime
    if not template.restored:
        apply_pythonpath(env)
    runtime.refresh_environ(env)
    try:
        if template.restored:  # SnapStart: this fork is the restore
            random.seed()
            _after_restore()
        else:
            runtime.init()
        runtime.run()
    except Exception as err:  # the Runtime API went away, or an after-restore hook failed
        sys.stderr.write(f"LAMBDA_RUNTIME {type(err).__name__}: {err}\n")
        sys.stderr.flush()
        os._exit(1)


def apply_pythonpath(env: dict[str, str]) -> None:
    """PYTHONPATH as the interpreter would have read it at start-up: the interpreter started
    long ago (in the template, with -I), so the entries are added here, in the environment,
    after every privilege is gone (never in a root template)."""
    entries = [p for p in env.get("PYTHONPATH", "").split(":") if p and p not in sys.path]
    sys.path[0:0] = entries


def _after_restore() -> None:
    try:
        import snapshot_restore_py  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return
    snapshot_restore_py.run_after_restore()
