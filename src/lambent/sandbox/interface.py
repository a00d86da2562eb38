"""The sandbox interface: how an execution environment's process tree is made and unmade.

Two backends implement it:
  * `namespaces` (Linux, root): template fork into user/mount/pid/ipc/uts/net namespaces,
    cgroup limits, seccomp, a read-only root, a private /tmp. The default where it works.
  * `process`: a plain child process per environment, no isolation. For machines without
    root or namespaces, and as the "fresh process" baseline in benchmarks.

The environment layer above never knows which one it has. It asks a `Template` (one per
function version) to `spawn` environments, serves each one's Runtime API on the socket the
sandbox hands back, reads its output from `output_fd`, and tells it to freeze, thaw or die.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from lambent.clock import Clock

NetworkMode = Literal["egress", "none"]


@dataclass(frozen=True)
class RuntimeLaunch:
    """How to start a runtime: filled in by `lambent.runtimes.registry`."""

    name: str  # "python3.11", "nodejs20.x", "provided.al2023", ...
    kind: Literal["python", "node", "provided"]
    # argv of the runtime process as seen *inside* the environment. For kind "python" with a
    # template, the template runs `interpreter` and forks instead of exec'ing.
    argv: tuple[str, ...]
    interpreter: str | None  # the interpreter's path inside the environment, if any
    # The runtime's image (lambent.runtimes.images), a host directory: its `lang/` is
    # read-only at /var/lang, its `runtime/` (if any) merged read-only into /var/runtime
    # below Lambent's guest code. None: the runtime needs only the base set (/usr, /lib,
    # /lib64, /bin, /sbin, a minimal /etc).
    image: Path | None = None
    execution_env: str = ""  # AWS_EXECUTION_ENV value, e.g. "AWS_Lambda_python3.11"


@dataclass(frozen=True)
class TemplateSpec:
    """What every environment of one function version shares."""

    key: str  # unique per (account, function, version, code/config revision)
    account_id: str
    function_name: str
    version: str
    launch: RuntimeLaunch
    handler: str
    code_dir: Path  # read-only extraction, mounted at /var/task
    layer_dirs: tuple[Path, ...]  # merged in order, read-only, at /opt
    guest_dir: Path  # Lambent's guest code (bootstraps), mounted at /var/runtime
    network: NetworkMode = "egress"
    snapstart: bool = False  # init runs in the template; a fork is the restore
    memory_mb: int = 128
    ephemeral_mb: int = 512
    # Variables every environment of this version gets (AWS_LAMBDA_FUNCTION_NAME, _HANDLER...).
    base_env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EnvironmentSpec:
    """What is particular to one execution environment."""

    env_id: str  # 32 lowercase hex characters
    memory_mb: int
    ephemeral_mb: int
    # Per-environment variables (log stream name, execution-role credentials), merged over
    # TemplateSpec.base_env. The sandbox adds AWS_LAMBDA_RUNTIME_API itself.
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExitStatus:
    code: int | None  # exit status when the process exited
    signal: int | None  # signal number when it was killed
    oom_killed: bool = False  # the memory limit killed it

    def describe(self) -> str:
        """Lambda's wording: 'exit status 3' or 'signal: killed'."""
        if self.signal is not None:
            names = {9: "killed", 15: "terminated", 11: "segmentation fault", 6: "aborted"}
            return f"signal: {names.get(self.signal, str(self.signal))}"
        return f"exit status {self.code}"


@dataclass(frozen=True)
class SnapStartReport:
    """The outcome of running init inside a SnapStart template."""

    ok: bool
    init_duration_ms: float
    error_type: str | None = None
    error_message: str | None = None
    output: bytes = b""


class SandboxedProcess(Protocol):
    env_id: str
    pid: int  # host pid of the environment's first process
    # A listening socket the Runtime API must be served on. Inside the environment it is
    # reachable at `runtime_api_address`.
    runtime_api_socket: socket.socket
    runtime_api_address: str  # value of AWS_LAMBDA_RUNTIME_API inside, e.g. "127.0.0.1:9001"
    # Non-blocking read end of the environment's merged stdout+stderr.
    output_fd: int
    # Non-blocking read end of the telemetry log pipe (framed logs), if the runtime has one.
    telemetry_fd: int | None
    # True when this environment was forked from an initialized SnapStart template.
    restored: bool

    async def wait(self) -> ExitStatus:
        """Resolves when the environment's first process has exited."""

    def freeze(self) -> None:
        """Stop every process of the environment (between invocations)."""

    def thaw(self) -> None: ...

    def memory_peak_bytes(self) -> int | None:
        """Peak memory of the environment since it started, from the cgroup, if known."""

    def memory_limit_hit(self) -> bool:
        """True if the memory limit has killed a process of this environment."""

    async def destroy(self, grace_s: float, clock: Clock | None = None) -> ExitStatus:
        """SIGTERM, then SIGKILL after `grace_s` of `clock` (the system clock if None);
        release cgroup, mounts, network slot."""


class Template(Protocol):
    spec: TemplateSpec
    snapstart_report: SnapStartReport | None

    async def spawn(self, env: EnvironmentSpec) -> SandboxedProcess: ...

    async def close(self) -> None:
        """Stop the template process. Environments already spawned keep running."""

    def alive(self) -> bool:
        """False once the template's process is gone (a new one must be started)."""

    def memory_bytes(self) -> int:
        """What keeping the template costs (its processes' PSS). Blocking: call it on a
        worker thread."""


class Sandbox(Protocol):
    name: str  # "namespaces" or "process"
    isolated: bool  # True only when environments are really isolated
    # The address at which a function reaches the host's loopback services (the server's
    # own port among them); None: functions share the host's network and reach the server
    # where any local client does.
    host_address: str | None

    async def start(self) -> None:
        """Prepare host-wide state (cgroup roots, nftables, slot pools)."""

    async def template(self, spec: TemplateSpec) -> Template:
        """A ready template for one function version (SnapStart: init has run)."""

    async def close(self) -> None:
        """Tear down everything this sandbox created on the host."""
