"""Which sandboxes run on this host, and what each one creates, in /run/lambent-sandbox.

A sandbox writes its record before it creates anything on the host (under the registry's
lock), so whatever a server leaves behind after a SIGKILL, a crash or a power cut during
start-up is named by a record whose process is gone. A record is alive while its pid runs
*and* has the start time recorded (pids are reused). /run is a tmpfs: records go with a
reboot, as do the objects they name.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN_DIR = Path("/run/lambent-sandbox")


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/pid/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def default_subnet(index: int) -> ipaddress.IPv4Network:
    """The index-th /16 of 100.64.0.0/10 (the shared address space no LAN should route)."""
    return ipaddress.IPv4Network(f"100.{64 + index % 64}.0.0/16")


def subnet_index(subnet: ipaddress.IPv4Network | None) -> int:
    """Which default /16 this is, or -1 for another subnet (set by configuration)."""
    if subnet is None or subnet.prefixlen != 16:
        return -1
    index = subnet.network_address.packed[1] - 64
    return index if 0 <= index < 64 and subnet == default_subnet(index) else -1


@dataclass(frozen=True)
class Record:
    """One sandbox: its owner process and the names of everything it makes on the host.

    The objects themselves are named from the tag: cgroup parents `lambent-<tag>` (paths
    recorded, they depend on the server's own cgroup), veths `lb<tag><i>` whose routes are
    the subnet's /30s, the nft table `lambent_<tag>`, and `/tmp` images
    `<scratch_dir>/tmp-<tag>-<n>.img` on loop devices.
    """

    tag: str
    pid: int
    start: str | None
    cgroups: tuple[Path, ...] = ()
    subnet: ipaddress.IPv4Network | None = None
    scratch_dir: Path | None = None

    @property
    def nft_table(self) -> str:
        return f"lambent_{self.tag}"

    @property
    def link_prefix(self) -> str:
        return f"lb{self.tag}"

    @property
    def scratch_prefix(self) -> str:
        return f"tmp-{self.tag}-"

    def alive(self) -> bool:
        return self.pid > 0 and start_time(self.pid) == self.start

    def to_json(self) -> str:
        return json.dumps(
            {
                "pid": self.pid,
                "start": self.start,
                "cgroups": [str(p) for p in self.cgroups],
                "nft_table": self.nft_table,
                # The index, as servers from before the "network" field read it.
                "subnet": subnet_index(self.subnet),
                "network": None if self.subnet is None else str(self.subnet),
                "scratch_dir": None if self.scratch_dir is None else str(self.scratch_dir),
            }
        )

    @classmethod
    def from_json(cls, tag: str, text: str) -> Record:
        raw: dict[str, Any] = json.loads(text)
        subnet: ipaddress.IPv4Network | None = None
        if raw.get("network"):
            subnet = ipaddress.IPv4Network(str(raw["network"]))
        elif int(raw.get("subnet", -1)) >= 0:
            subnet = default_subnet(int(raw["subnet"]))
        scratch = raw.get("scratch_dir")
        return cls(
            tag=tag,
            pid=int(raw.get("pid", 0)),
            start=raw.get("start"),
            cgroups=tuple(Path(p) for p in raw.get("cgroups", [])),
            subnet=subnet,
            scratch_dir=Path(scratch) if scratch else None,
        )


class Registry:
    """The records of this host. Readers and writers hold one lock (flock, released by the
    kernel if its holder dies), so a sandbox that is registering is never taken for a dead
    one's leftovers."""

    def __init__(self, run_dir: Path = RUN_DIR) -> None:
        self.run_dir = run_dir

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.run_dir / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def records(self) -> list[Record]:
        found = []
        for path in sorted(self.run_dir.glob("*.json")):
            with contextlib.suppress(OSError, ValueError, TypeError):
                found.append(Record.from_json(path.stem, path.read_text()))
        return found

    def write(self, record: Record) -> Path:
        path = self.run_dir / f"{record.tag}.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(record.to_json())
        temporary.rename(path)
        return path

    def remove(self, tag: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.run_dir / f"{tag}.json").unlink()


def own_record(
    tag: str,
    cgroups: tuple[Path, ...],
    subnet: ipaddress.IPv4Network,
    scratch_dir: Path | None,
) -> Record:
    """The record of a sandbox of this process."""
    pid = os.getpid()
    return Record(tag, pid, start_time(pid), cgroups, subnet, scratch_dir)
