"""What Lambent can leave on a host, captured so a crash test can assert "the host is as it
was": processes in Lambent cgroups, the cgroups themselves, `lb*` veths, routes in
100.64.0.0/10, `lambent_*` nft tables, registry records, mounts and loop devices under the
watched directories (data dirs) and /run/lambent*, and /tmp image files.

It reads the host with the usual tools (`ip`, `nft`, `losetup`, /proc, cgroupfs), not with
Lambent's own code, so a bug there cannot hide a leftover here.

The machine is shared (other servers may run while a test does), so compare what belongs
to one sandbox (`of_tag`, the tag of a server found with `tag_of_pid`), or what appeared
and is owned by no live server (`leaked_since`).

    before = HostState.capture([data_dir])
    ... crash and restart ...
    assert HostState.capture([data_dir]).of_tag(old_tag).empty, "..."
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CGROUP_MOUNT = Path("/sys/fs/cgroup")
REGISTRY = Path("/run/lambent-sandbox")
SHARED = ipaddress.IPv4Network("100.64.0.0/10")
SANDBOX_CGROUP = re.compile(r"lambent-(\w+)")
VETH = re.compile(r"lb([0-9a-f]{4})\d+")
TOOLS_PATH = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


@dataclass(frozen=True, order=True)
class Proc:
    """A process by pid and start time (pids are reused), and the sandbox cgroup it is in."""

    pid: int
    start: str
    tag: str

    def running(self) -> bool:
        """Alive, zombies excluded: a zombie holds nothing (memory, fds, namespaces are
        gone) and waits for its parent, often init, to collect its exit status."""
        return start_time(self.pid) == self.start and not _zombie(self.pid)


@dataclass(frozen=True)
class HostState:
    processes: frozenset[Proc]
    cgroups: frozenset[str]  # lambent-<tag> directories and every cgroup below them
    frozen_cgroups: frozenset[str]
    links: frozenset[str]  # lb* interface names
    routes: frozenset[str]  # `ip route` lines (any table) inside 100.64.0.0/10
    nft_tables: frozenset[str]
    records: frozenset[str]  # tags registered in /run/lambent-sandbox
    mounts: frozenset[str]  # mount points under the watched dirs or /run/lambent*
    loop_devices: frozenset[str]  # "loopN <backing file>" with the file under a watched dir
    images: frozenset[str]  # /tmp image files under the watched dirs

    @classmethod
    def capture(cls, watched: Iterable[Path] = ()) -> HostState:
        roots = [str(Path(p).resolve()) for p in watched]
        cgroup_dirs = _sandbox_cgroups()
        return cls(
            processes=frozenset(_processes(cgroup_dirs)),
            cgroups=frozenset(str(d) for d in cgroup_dirs),
            frozen_cgroups=frozenset(str(d) for d in cgroup_dirs if _frozen(d)),
            links=frozenset(_links()),
            routes=frozenset(_routes()),
            nft_tables=frozenset(_nft_tables()),
            records=frozenset(p.stem for p in REGISTRY.glob("*.json")),
            mounts=frozenset(_mounts(roots)),
            loop_devices=frozenset(_loops(roots)),
            images=frozenset(
                str(p) for root in roots for p in Path(root).rglob("*.img") if p.is_file()
            ),
        )

    # -- views -----------------------------------------------------------------------------
    def of_tag(self, tag: str) -> HostState:
        """Only what the sandbox `tag` owns (its objects are named for it)."""
        veth = re.compile(rf"lb{re.escape(tag)}\d+")

        def named(item: str) -> bool:
            return (
                f"lambent-{tag}" in Path(item).parts
                or veth.fullmatch(item) is not None
                or re.search(rf"\bdev lb{re.escape(tag)}\d+\b", item) is not None
                or item == f"lambent_{tag}"
                or f"tmp-{tag}-" in item
            )

        return HostState(
            processes=frozenset(p for p in self.processes if p.tag == tag),
            cgroups=frozenset(filter(named, self.cgroups)),
            frozen_cgroups=frozenset(filter(named, self.frozen_cgroups)),
            links=frozenset(filter(named, self.links)),
            routes=frozenset(filter(named, self.routes)),
            nft_tables=frozenset(filter(named, self.nft_tables)),
            records=frozenset(r for r in self.records if r == tag),
            mounts=self.mounts,
            loop_devices=frozenset(filter(named, self.loop_devices)),
            images=frozenset(filter(named, self.images)),
        )

    def minus(self, other: HostState) -> HostState:
        """What this snapshot has that `other` had not."""
        fields = {
            f.name: getattr(self, f.name) - getattr(other, f.name) for f in dataclasses.fields(self)
        }
        return HostState(**fields)

    def leaked_since(self, before: HostState, culprit: int | None = None) -> HostState:
        """What appeared since `before` and no live server owns: a leak. With `culprit` (a
        server's pid), only what that server may have left: objects of sandboxes registered
        by other processes, alive or dead (another test's crash, reaped at the next start),
        are not counted, nor routes on no `lb` link (a server routes only through its own
        veths; another test's blackhole route, made to look like a taken subnet, is not
        one of its)."""
        others = live_tags()
        if culprit is not None:
            others |= {t for t, pid in registered().items() if pid != culprit}
        new = self.minus(before)
        owned = [new.of_tag(tag) for tag in others]
        fields = {}
        for f in dataclasses.fields(new):
            items = getattr(new, f.name)
            for view in owned:
                items = items - getattr(view, f.name)
            fields[f.name] = items
        if culprit is not None:
            fields["routes"] = frozenset(r for r in fields["routes"] if " dev lb" in f" {r}")
        return HostState(**fields)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f.name) for f in dataclasses.fields(self))

    def describe(self) -> str:
        lines = []
        for f in dataclasses.fields(self):
            items = getattr(self, f.name)
            if items:
                shown = sorted(map(str, items))
                more = f" ... and {len(shown) - 8} more" if len(shown) > 8 else ""
                lines.append(f"{f.name} ({len(shown)}): {shown[:8]}{more}")
        return "\n".join(lines) or "(nothing)"

    def still_running(self) -> list[Proc]:
        """Processes of this snapshot that run now (same pid, same start time)."""
        return sorted(p for p in self.processes if p.running())


def describe_processes(procs: Iterable[Proc]) -> str:
    """What each process is and where it is now (for failure messages)."""
    lines = []
    for proc in procs:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text().splitlines()
            cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().replace(b"\0", b" ")
            cgroup = Path(f"/proc/{proc.pid}/cgroup").read_text().replace("\n", " ")
        except OSError:
            continue
        keep = [line for line in status if line.split(":")[0] in ("State", "PPid", "NSpid")]
        lines.append(f"{proc}: {' '.join(keep)} {cmdline[:120]!r} {cgroup}")
    return "\n".join(lines)


# -- the registry, read directly ---------------------------------------------------------------
def _record(tag: str) -> dict[str, object]:
    try:
        raw: dict[str, object] = json.loads((REGISTRY / f"{tag}.json").read_text())
    except (OSError, ValueError):
        return {}
    return raw


def tag_of_pid(pid: int) -> str | None:
    """The tag of the sandbox a server process registered."""
    for path in REGISTRY.glob("*.json"):
        if _record(path.stem).get("pid") == pid:
            return path.stem
    return None


def registered() -> dict[str, object]:
    """Every registered tag and the pid that registered it."""
    return {path.stem: _record(path.stem).get("pid") for path in REGISTRY.glob("*.json")}


def live_tags() -> set[str]:
    tags = set()
    for path in REGISTRY.glob("*.json"):
        record = _record(path.stem)
        pid = record.get("pid")
        if isinstance(pid, int) and start_time(pid) == record.get("start"):
            tags.add(path.stem)
    return tags


def subnet_of(tag: str) -> ipaddress.IPv4Network | None:
    """The subnet a sandbox routes: from its veths' routes (what the kernel does)."""
    nets = [
        ipaddress.IPv4Network(line.split()[0])
        for line in _routes()
        if re.search(rf"\bdev lb{re.escape(tag)}\d+\b", line) and "/" in line.split()[0]
    ]
    if not nets:
        return None
    return ipaddress.IPv4Network(f"{nets[0].network_address}/16", strict=False)


# -- readers -----------------------------------------------------------------------------------
def start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _sandbox_cgroups() -> list[Path]:
    found: list[Path] = []
    for current, dirs, _ in os.walk(CGROUP_MOUNT):
        for name in list(dirs):
            if SANDBOX_CGROUP.fullmatch(name):
                dirs.remove(name)
                top = Path(current) / name
                found.extend(Path(d) for d, _, _ in os.walk(top))
    return found


def _tag_in(path: Path) -> str:
    for part in path.parts:
        match = SANDBOX_CGROUP.fullmatch(part)
        if match:
            return match.group(1)
    return ""


def _processes(cgroup_dirs: list[Path]) -> set[Proc]:
    found = set()
    for d in cgroup_dirs:
        with contextlib.suppress(OSError):
            for pid in (d / "cgroup.procs").read_text().split():
                start = start_time(int(pid))
                if start is not None:
                    found.add(Proc(int(pid), start, _tag_in(d)))
    return found


def _frozen(d: Path) -> bool:
    for name, value in (("freezer.state", "FROZEN"), ("cgroup.freeze", "1")):
        with contextlib.suppress(OSError):
            text = (d / name).read_text().strip()
            if name == "freezer.state":
                self_frozen = (d / "freezer.self_freezing").read_text().strip() == "1"
                return text == value and self_frozen
            return text == value
    return False


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=False, capture_output=True, text=True, env=TOOLS_PATH).stdout


def _links() -> list[str]:
    names = []
    for line in _run("ip", "-o", "link", "show").splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith("lb"):
            names.append(name)
    return names


def _routes() -> list[str]:
    kept = []
    for line in _run("ip", "-4", "-o", "route", "show", "table", "all").splitlines():
        words = line.split()
        if not words:
            continue
        target = (
            words[1] if words[0] in ("local", "broadcast", "blackhole", "unreachable") else words[0]
        )
        with contextlib.suppress(ValueError):
            if target != "default" and ipaddress.IPv4Network(target, strict=False).subnet_of(
                SHARED
            ):
                kept.append(" ".join(words))
    return kept


def _nft_tables() -> list[str]:
    return [
        line.split()[-1]
        for line in _run("nft", "list", "tables").splitlines()
        if line.split() and line.split()[-1].startswith("lambent_")
    ]


def _mounts(roots: list[str]) -> list[str]:
    watched = [*roots, "/run/lambent"]
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        if any(point == w or point.startswith(w) for w in watched):
            found.append(point)
    return found


def _loops(roots: list[str]) -> list[str]:
    found = []
    for line in _run("losetup", "-l", "-n", "-O", "NAME,BACK-FILE").splitlines():
        words = line.split(maxsplit=1)
        if len(words) == 2 and any(words[1].startswith(r) for r in roots):
            found.append(f"{Path(words[0]).name} {words[1]}")
    return found
