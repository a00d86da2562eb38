"""Per-environment cgroups: memory, CPU, pids and freezer, on cgroup v1 or v2.

Detected once at start: v2 when the unified hierarchy at the mount point has the memory,
cpu and pids controllers (a pure v2 host), else v1 with one hierarchy per controller (this
machine; its hybrid /sys/fs/cgroup/unified carries no controllers). Every environment gets
one leaf per hierarchy under a parent named for this sandbox, nested below the cgroup the
server itself runs in, so limits set on the server still bound its environments.

The child joins its cgroups itself, before it allocates anything: the host opens each
`cgroup.procs` (as root) and passes the fds; the kernel checks the opener's credentials.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

CPU_PERIOD_US = 100_000
MB_PER_VCPU = 1769  # Lambda: 1769 MB of memory is one vCPU
PIDS_MAX = 1024
V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "pids", "freezer")


def cpu_quota_us(memory_mb: int, period_us: int = CPU_PERIOD_US) -> int:
    """CPU proportional to memory, as Lambda allots it (at least 1 ms per period)."""
    return max(1000, memory_mb * period_us // MB_PER_VCPU)


@dataclass(frozen=True)
class Hierarchy:
    """Where one controller's tree is, and our parent directory inside it."""

    controllers: tuple[str, ...]
    parent: Path


def _own_cgroup(proc_self_cgroup: str, controller: str | None) -> str:
    for line in proc_self_cgroup.splitlines():
        _, names, path = line.split(":", 2)
        if controller is None and names == "":
            return path
        if controller is not None and controller in names.split(","):
            return path
    return "/"


def detect(
    root: Path = Path("/sys/fs/cgroup"), name: str = "lambent", proc_self_cgroup: str | None = None
) -> CgroupDriver:
    """The driver for this host; `root` and `proc_self_cgroup` are parameters for tests."""
    if proc_self_cgroup is None:
        proc_self_cgroup = Path("/proc/self/cgroup").read_text()
    controllers_file = root / "cgroup.controllers"
    if controllers_file.exists():
        available = set(controllers_file.read_text().split())
        if {"memory", "cpu", "pids"} <= available:
            parent = root / _own_cgroup(proc_self_cgroup, None).lstrip("/") / name
            return CgroupV2(parent)
    hierarchies = []
    for controller in V1_CONTROLLERS:
        base = root / controller
        if not (base / "cgroup.procs").exists():
            raise OSError(f"cgroup v1 controller {controller} is not mounted at {base}")
        own = _own_cgroup(proc_self_cgroup, controller).lstrip("/")
        hierarchies.append(Hierarchy((controller,), base / own / name))
    return CgroupV1(tuple(hierarchies))


def favor_dynamic_modifications(mounts_text: str | None = None) -> bool:
    """Mount the cgroup2 hierarchy with `favordynmods` if it is not already.

    Moving a task between cgroups takes cgroup_threadgroup_rwsem for writing, which waits
    for an RCU grace period: 6-10 ms per cgroup.procs write here, for each of the five v1
    hierarchies. `favordynmods` (Linux 6.1+) switches that global semaphore to the mode
    where writers need no grace period (measured: ~0.2 ms for all five), at a small cost to
    fork and exit. The flag lives on the cgroup2 superblock but governs every hierarchy.
    Returns True when the option is in effect.
    """
    if mounts_text is None:
        mounts_text = Path("/proc/self/mounts").read_text()
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == "cgroup2":
            if "favordynmods" in fields[3].split(","):
                return True
            from lambent.guest.lambent_guest import linux

            try:
                linux.mount(None, fields[1], None, linux.MS_REMOUNT, "favordynmods")
            except OSError:
                return False
            return True
    return False


class EnvCgroup:
    """The cgroups of one environment."""

    def __init__(self, driver: CgroupDriver, dirs: tuple[Path, ...]) -> None:
        self.driver = driver
        self.dirs = dirs

    def adopt(self, pid: int) -> None:
        """Move a running process (and the children it forks later) into these cgroups."""
        for d in self.dirs:
            _write(d / "cgroup.procs", str(pid))

    def open_procs(self) -> list[int]:
        """fds of every cgroup.procs, for the child to write itself into."""
        return [os.open(d / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for d in self.dirs]

    def freeze(self) -> None:
        self.driver.freeze(self, True)

    def thaw(self) -> None:
        self.driver.freeze(self, False)

    def memory_peak_bytes(self) -> int | None:
        return self.driver.memory_peak(self)

    def oom_kills(self) -> int:
        return self.driver.oom_kills(self)

    def cpu_usage_ns(self) -> int:
        return self.driver.cpu_usage_ns(self)

    def limit_cpu(self, memory_mb: int) -> None:
        """Apply the CPU quota: after sandbox setup, so setup itself is never throttled."""
        self.driver.limit_cpu(self, memory_mb)

    def set_memory_limit(self, memory_mb: int) -> None:
        self.driver.set_memory_limit(self, memory_mb)

    def pids(self) -> list[int]:
        found: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError):
                found.update(int(x) for x in (d / "cgroup.procs").read_text().split())
        return sorted(found)

    def remove(self, timeout_s: float = 2.0) -> bool:
        """rmdir every leaf, waiting briefly for the kernel to finish tearing tasks down."""
        deadline = time.monotonic() + timeout_s
        remaining = list(self.dirs)
        while remaining:
            still = []
            for d in remaining:
                try:
                    d.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    still.append(d)
            remaining = still
            if remaining:
                if time.monotonic() > deadline:
                    return False
                self.driver.kill_all(remaining)
                time.sleep(0.002)
        return True


class CgroupDriver:
    version: int

    def setup(self) -> None:
        raise NotImplementedError

    def create(self, env_id: str, memory_mb: int) -> EnvCgroup:
        raise NotImplementedError

    def create_unlimited(self, name: str) -> EnvCgroup:
        """A leaf with no limits (the templates): a dead server's processes are then all
        in cgroups its successor can find."""
        raise NotImplementedError

    def roots(self, mount: Path) -> tuple[Path, ...]:
        """The root of each hierarchy in use, under the cgroup mount point."""
        raise NotImplementedError

    def freeze(self, group: EnvCgroup, frozen: bool) -> None:
        raise NotImplementedError

    def memory_peak(self, group: EnvCgroup) -> int | None:
        raise NotImplementedError

    def oom_kills(self, group: EnvCgroup) -> int:
        raise NotImplementedError

    def cpu_usage_ns(self, group: EnvCgroup) -> int:
        raise NotImplementedError

    def limit_cpu(self, group: EnvCgroup, memory_mb: int) -> None:
        raise NotImplementedError

    def set_memory_limit(self, group: EnvCgroup, memory_mb: int) -> None:
        raise NotImplementedError

    def kill_all(self, dirs: list[Path]) -> None:
        """SIGKILL every member, then thaw: a frozen task acts on the signal only once
        thawed (cgroup v1)."""
        for d in dirs:
            with contextlib.suppress(OSError):
                for pid in (d / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), 9)
        for d in dirs:
            if (d / "freezer.state").exists():
                with contextlib.suppress(OSError):
                    _write(d / "freezer.state", "THAWED")

    def parents(self) -> tuple[Path, ...]:
        raise NotImplementedError

    def teardown(self) -> None:
        """Remove every leaf left under our parents, then the parents."""
        for parent in self.parents():
            if not parent.is_dir():
                continue
            leaves = [p for p in parent.iterdir() if p.is_dir()]
            EnvCgroup(self, tuple(leaves)).remove(timeout_s=5.0)
            with contextlib.suppress(OSError):
                parent.rmdir()


def _write(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


class CgroupV1(CgroupDriver):
    version = 1

    def __init__(self, hierarchies: tuple[Hierarchy, ...]) -> None:
        self.hierarchies = hierarchies

    def _parent(self, controller: str) -> Path:
        for h in self.hierarchies:
            if controller in h.controllers:
                return h.parent
        raise KeyError(controller)

    def parents(self) -> tuple[Path, ...]:
        return tuple(h.parent for h in self.hierarchies)

    def setup(self) -> None:
        for h in self.hierarchies:
            h.parent.mkdir(exist_ok=True)
        memory = self._parent("memory")
        with contextlib.suppress(OSError):
            _write(memory / "memory.use_hierarchy", "1")

    def roots(self, mount: Path) -> tuple[Path, ...]:
        return tuple(mount / h.controllers[0] for h in self.hierarchies)

    def _leaves(self, name: str, exist_ok: bool) -> EnvCgroup:
        dirs = []
        for h in self.hierarchies:
            d = h.parent / name
            d.mkdir(exist_ok=exist_ok)
            dirs.append(d)
        return EnvCgroup(self, tuple(dirs))

    def create_unlimited(self, name: str) -> EnvCgroup:
        return self._leaves(name, exist_ok=True)

    def create(self, env_id: str, memory_mb: int) -> EnvCgroup:
        group = self._leaves(env_id, exist_ok=False)
        self.set_memory_limit(group, memory_mb)
        _write(self._parent("cpu") / env_id / "cpu.cfs_period_us", str(CPU_PERIOD_US))
        _write(self._parent("pids") / env_id / "pids.max", str(PIDS_MAX))
        return group

    def set_memory_limit(self, group: EnvCgroup, memory_mb: int) -> None:
        limit = memory_mb * 1024 * 1024
        mem = self._dir(group, "memory")
        current = int((mem / "memory.limit_in_bytes").read_text())
        # memory+swap must stay >= memory: grow it first, shrink it last.
        if limit >= current:
            _write_memsw(mem, limit)
            _write(mem / "memory.limit_in_bytes", str(limit))
        else:
            _write(mem / "memory.limit_in_bytes", str(limit))
            _write_memsw(mem, limit)

    def limit_cpu(self, group: EnvCgroup, memory_mb: int) -> None:
        _write(self._dir(group, "cpu") / "cpu.cfs_quota_us", str(cpu_quota_us(memory_mb)))

    def _dir(self, group: EnvCgroup, controller: str) -> Path:
        parent = self._parent(controller)
        for d in group.dirs:
            if d.parent == parent:
                return d
        raise KeyError(controller)

    def freeze(self, group: EnvCgroup, frozen: bool) -> None:
        _write(self._dir(group, "freezer") / "freezer.state", "FROZEN" if frozen else "THAWED")

    def memory_peak(self, group: EnvCgroup) -> int | None:
        try:
            return int((self._dir(group, "memory") / "memory.max_usage_in_bytes").read_text())
        except OSError:
            return None

    def oom_kills(self, group: EnvCgroup) -> int:
        try:
            text = (self._dir(group, "memory") / "memory.oom_control").read_text()
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def cpu_usage_ns(self, group: EnvCgroup) -> int:
        return int((self._dir(group, "cpuacct") / "cpuacct.usage").read_text())


class CgroupV2(CgroupDriver):
    version = 2

    def __init__(self, parent: Path) -> None:
        self.parent = parent

    def parents(self) -> tuple[Path, ...]:
        return (self.parent,)

    def setup(self) -> None:
        if not self.parent.exists():
            self.make_leaf(self.parent)
        # Controllers must be enabled on every ancestor's subtree_control down to our leaves.
        # (cgroup v2's "no internal processes" rule: the server's own cgroup can only do so
        # if the server runs in a leaf below it, e.g. systemd with Delegate=yes.)
        with contextlib.suppress(OSError):
            _write(self.parent.parent / "cgroup.subtree_control", "+memory +cpu +pids")
        _write(self.parent / "cgroup.subtree_control", "+memory +cpu +pids")

    def make_leaf(self, path: Path) -> None:
        """mkdir; the kernel populates the interface files (a test double makes them)."""
        path.mkdir()

    def roots(self, mount: Path) -> tuple[Path, ...]:
        return (mount,)

    def create_unlimited(self, name: str) -> EnvCgroup:
        d = self.parent / name
        if not d.exists():
            self.make_leaf(d)
        return EnvCgroup(self, (d,))

    def create(self, env_id: str, memory_mb: int) -> EnvCgroup:
        d = self.parent / env_id
        self.make_leaf(d)
        _write(d / "memory.max", str(memory_mb * 1024 * 1024))
        with contextlib.suppress(FileNotFoundError):
            _write(d / "memory.swap.max", "0")
        _write(d / "pids.max", str(PIDS_MAX))
        return EnvCgroup(self, (d,))

    def limit_cpu(self, group: EnvCgroup, memory_mb: int) -> None:
        _write(group.dirs[0] / "cpu.max", f"{cpu_quota_us(memory_mb)} {CPU_PERIOD_US}")

    def set_memory_limit(self, group: EnvCgroup, memory_mb: int) -> None:
        _write(group.dirs[0] / "memory.max", str(memory_mb * 1024 * 1024))

    def freeze(self, group: EnvCgroup, frozen: bool) -> None:
        _write(group.dirs[0] / "cgroup.freeze", "1" if frozen else "0")

    def memory_peak(self, group: EnvCgroup) -> int | None:
        try:
            return int((group.dirs[0] / "memory.peak").read_text())
        except (OSError, ValueError):
            return None

    def oom_kills(self, group: EnvCgroup) -> int:
        return _keyed(group.dirs[0] / "memory.events", "oom_kill")

    def cpu_usage_ns(self, group: EnvCgroup) -> int:
        return _keyed(group.dirs[0] / "cpu.stat", "usage_usec") * 1000

    def kill_all(self, dirs: list[Path]) -> None:
        for d in dirs:
            try:
                _write(d / "cgroup.kill", "1")
            except OSError:
                super().kill_all([d])


def _write_memsw(memory_dir: Path, limit: int) -> None:
    """Same limit for memory+swap, so swap is no way around it (if swap accounting is on)."""
    path = memory_dir / "memory.memsw.limit_in_bytes"
    if path.exists():
        with contextlib.suppress(OSError):
            _write(path, str(limit))


def _keyed(path: Path, key: str) -> int:
    try:
        text = path.read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    return 0
