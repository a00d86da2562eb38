"""Host objects left by a sandbox whose server died without closing (SIGKILL, crash).

Environments die with their server (the template sees its control socket close and takes
its pid namespace down; slot netns and /tmp mounts are only held by fds), but empty cgroup
directories and the nftables table would stay. Each running sandbox registers itself in
RUN_DIR with its pid, the pid's start time (pids are reused) and what it created; a sandbox
starting up removes what dead ones left.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
from pathlib import Path
from typing import Any

RUN_DIR = Path("/run/lambent-sandbox")


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


SUBNETS = 64  # /16s in 100.64.0.0/10


def register(
    tag: str, cgroup_parents: list[Path], run_dir: Path = RUN_DIR, subnets: int = SUBNETS
) -> tuple[Path, int]:
    """Record this sandbox and claim a subnet index no live sandbox on this host uses.

    Several servers run side by side (tests start many): two sandboxes routing the same
    slot subnet through different veths would misroute each other's traffic.
    """
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(run_dir / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        taken: set[int] = set()
        for other in run_dir.glob("*.json"):
            with contextlib.suppress(OSError, ValueError):
                record = json.loads(other.read_text())
                if is_alive(record):
                    if other.stem == tag:
                        raise OSError(f"sandbox tag {tag} is already in use")
                    taken.add(int(record.get("subnet", -1)))
        free = [i for i in range(subnets) if i not in taken]
        if not free:
            raise OSError("every sandbox subnet of this host is in use")
        record = {
            "pid": os.getpid(),
            "start": _start_time(os.getpid()),
            "cgroups": [str(p) for p in cgroup_parents],
            "nft_table": f"lambent_{tag}",
            "subnet": free[0],
        }
        path = run_dir / f"{tag}.json"
        path.write_text(json.dumps(record))
        return path, free[0]


def unregister(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def is_alive(record: dict[str, Any]) -> bool:
    pid = int(record.get("pid", 0))
    return pid > 0 and _start_time(pid) == record.get("start")


def sweep(run_dir: Path = RUN_DIR) -> list[str]:
    """Remove the leftovers of dead sandboxes; returns the tags swept."""
    swept: list[str] = []
    if not run_dir.is_dir():
        return swept
    for path in run_dir.glob("*.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if is_alive(record):
            continue
        for parent in record.get("cgroups", []):
            _remove_cgroup_tree(Path(parent))
        table = str(record.get("nft_table", ""))
        if table.startswith("lambent_"):
            subprocess.run(
                ["nft", "delete", "table", "ip", table],
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            )
        unregister(path)
        swept.append(path.stem)
    return swept


def _remove_cgroup_tree(parent: Path) -> None:
    if not parent.is_dir():
        return
    for leaf in parent.iterdir():
        if leaf.is_dir():
            with contextlib.suppress(OSError):
                leaf.rmdir()
    with contextlib.suppress(OSError):
        parent.rmdir()
