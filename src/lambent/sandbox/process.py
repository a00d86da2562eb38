"""The `process` backend: one plain child process per environment, and no isolation.

It exists for machines without root or namespaces, and as the "fresh process" baseline
the benchmarks compare the template fork against. It claims nothing it does not do: the
function runs as the server's user, sees the host filesystem and network, and its limits
are not enforced (`isolated = False`).

Paths: argv and environment values use the in-sandbox paths (/var/task, /opt,
/var/runtime, /var/lang); this backend rewrites them to the real directories. So the
function runs on the runtime's image (its interpreter, standard library and SDK), but
sees those host paths in `sys.prefix`, `__file__` and the like: hiding the host is the
namespaces backend's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from lambent.clock import Clock, SystemClock, within
from lambent.private_files import FUNCTION_UMASK
from lambent.runtimes.images import IMAGE_LANG, IMAGE_RUNTIME, LANG_DIR
from lambent.sandbox.interface import (
    EnvironmentSpec,
    ExitStatus,
    RuntimeLaunch,
    SnapStartReport,
    TemplateSpec,
)


def die_with_server() -> tuple[str, ...]:
    """An argv prefix that makes the environment get SIGKILL when the server dies, however
    it dies: the kernel sends the parent-death signal even to a stopped process (this
    backend's freeze is SIGSTOP), which would otherwise stay stopped forever after a SIGKILL
    of the server. util-linux's setpriv sets it and execs the runtime (a preexec_fn would be
    unsafe in a threaded server). The signal follows the thread that forked: spawn() runs on
    the event loop's thread, which lives as long as the server."""
    setpriv = shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin")
    return (setpriv, "--pdeathsig", "KILL", "--") if setpriv else ()


def merge_layers(layer_dirs: tuple[Path, ...], work: Path) -> Path | None:
    """A directory with the layers' files merged in order (later layers win)."""
    if not layer_dirs:
        return None
    if len(layer_dirs) == 1:
        return layer_dirs[0]
    target = Path(tempfile.mkdtemp(prefix="opt-", dir=work))
    for layer in layer_dirs:
        shutil.copytree(layer, target, symlinks=True, dirs_exist_ok=True)
    return target


def path_map(
    launch: RuntimeLaunch, code_dir: Path, guest_dir: Path, opt: Path
) -> list[tuple[str, str]]:
    """In-sandbox paths and the host directories that play their part, longest first (so
    /var/runtime/node_modules from an image wins over /var/runtime)."""
    pairs = {"/var/task": str(code_dir), "/var/runtime": str(guest_dir), "/opt": str(opt)}
    image = launch.image
    if image is not None:
        pairs[LANG_DIR] = str(image / IMAGE_LANG)
        runtime = image / IMAGE_RUNTIME
        if runtime.is_dir():
            for entry in sorted(runtime.iterdir()):
                pairs[f"/var/runtime/{entry.name}"] = str(entry)
    return sorted(pairs.items(), key=lambda pair: len(pair[0]), reverse=True)


class ProcessEnvironment:
    restored = False
    telemetry_fd: int | None = None

    def __init__(
        self, env_id: str, proc: subprocess.Popen[bytes], sock: socket.socket, output_fd: int
    ) -> None:
        self.env_id = env_id
        self._proc = proc
        self.pid = proc.pid
        self.runtime_api_socket = sock
        host, port = sock.getsockname()[:2]
        self.runtime_api_address = f"{host}:{port}"
        self.output_fd = output_fd
        self._exit: asyncio.Future[ExitStatus] = asyncio.get_running_loop().create_future()
        self._frozen = False
        self._poller: asyncio.Task[None] | None = None
        self._peak: int | None = None
        self._peak_at = 0.0
        self._watch()

    def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            pidfd = os.pidfd_open(self.pid)
        except OSError:
            self._poller = loop.create_task(self._poll_exit())
            return

        def on_exit() -> None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
            self._reap()

        loop.add_reader(pidfd, on_exit)

    async def _poll_exit(self) -> None:  # pragma: no cover - kernels without pidfd
        while self._proc.poll() is None:
            await asyncio.sleep(0.05)
        self._reap()

    def _reap(self) -> None:
        code = self._proc.wait()
        status = ExitStatus(code=None, signal=-code) if code < 0 else ExitStatus(code, None)
        if not self._exit.done():
            self._exit.set_result(status)

    async def wait(self) -> ExitStatus:
        return await asyncio.shield(self._exit)

    def freeze(self) -> None:
        if not self._frozen and not self._exit.done():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGSTOP)
            self._frozen = True

    def thaw(self) -> None:
        if self._frozen:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGCONT)
            self._frozen = False

    def memory_peak_bytes(self) -> int | None:
        """VmHWM of the runtime process, re-read at most every 100 ms (it is a /proc read)."""
        now = time.monotonic()
        if self._peak is not None and now - self._peak_at < 0.1:
            return self._peak
        self._peak, self._peak_at = self._read_peak(), now
        return self._peak

    def _read_peak(self) -> int | None:
        try:
            with open(f"/proc/{self.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def memory_limit_hit(self) -> bool:
        return False

    async def destroy(self, grace_s: float, clock: Clock | None = None) -> ExitStatus:
        self.thaw()
        if not self._exit.done():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                await within(clock or SystemClock(), asyncio.shield(self._exit), grace_s)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
        status = await self.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # stragglers of the group
        self.runtime_api_socket.close()
        with contextlib.suppress(OSError):
            os.close(self.output_fd)
        return status


class ProcessTemplate:
    snapstart_report: SnapStartReport | None = None

    def __init__(self, spec: TemplateSpec, work: Path, launcher: tuple[str, ...] = ()) -> None:
        self.spec = spec
        self._work = work
        self._launcher = launcher
        self._opt = merge_layers(spec.layer_dirs, work)
        self._live: set[asyncio.Task[None]] = set()
        self._closed = False
        self._map = path_map(
            spec.launch, spec.code_dir, spec.guest_dir, self._opt or work / "no-layers"
        )

    def _host_path(self, value: str) -> str:
        for inside, outside in self._map:
            value = value.replace(inside, outside)
        return value

    async def spawn(self, env: EnvironmentSpec) -> ProcessEnvironment:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        sock.setblocking(False)
        host, port = sock.getsockname()[:2]
        variables = {**self.spec.base_env, **env.env}
        variables["AWS_LAMBDA_RUNTIME_API"] = f"{host}:{port}"
        variables = {k: self._host_path(v) for k, v in variables.items()}
        argv = [self._host_path(a) for a in self.spec.launch.argv]
        argv = [*self._launcher, *argv]
        read_fd, write_fd = os.pipe()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                env=variables,
                cwd=str(self.spec.code_dir),
                start_new_session=True,
                close_fds=True,
                umask=FUNCTION_UMASK,  # not the server's private one
            )
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            sock.close()
            raise
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        created = ProcessEnvironment(env.env_id, proc, sock, read_fd)
        watch = asyncio.get_running_loop().create_task(self._until_exit(created))
        self._live.add(watch)
        return created

    async def _until_exit(self, env: ProcessEnvironment) -> None:
        await env.wait()
        self._live.discard(asyncio.current_task())
        if self._closed and not self._live:
            self._remove_merged_layers()

    async def close(self) -> None:
        """Environments already spawned keep running: the merged layers they read as /opt
        are removed after the last one has exited."""
        self._closed = True
        if not self._live:
            self._remove_merged_layers()

    def _remove_merged_layers(self) -> None:
        if self._opt is not None and self._opt.parent == self._work:
            shutil.rmtree(self._opt, ignore_errors=True)

    def alive(self) -> bool:
        return True

    def memory_bytes(self) -> int:
        return 0  # no process of its own


class ProcessSandbox:
    name = "process"
    isolated = False
    host_address: str | None = None  # functions run on the host's own network

    def __init__(self, work: Path) -> None:
        self._work = work
        self._launcher = die_with_server()

    async def start(self) -> None:
        self._work.mkdir(parents=True, exist_ok=True)

    async def template(self, spec: TemplateSpec) -> ProcessTemplate:
        return ProcessTemplate(spec, self._work, self._launcher)

    async def close(self) -> None:
        shutil.rmtree(self._work, ignore_errors=True)
