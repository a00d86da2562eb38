"""Kill every process of a cgroup tree, frozen ones included, and remove the tree.

A dead server's environments may sit in the freezer. A frozen task does not act on a
SIGKILL (cgroup v1 keeps it in the refrigerator; the signal stays pending), and its
template, PID 1 of their pid namespace, then hangs in its own exit waiting for them: the
whole tree, its network namespaces and /tmp mounts stay forever. So the order is:
freeze the parent (nothing forks while we look), SIGKILL every member, thaw every level
(the pending SIGKILLs take effect), then wait, bounded, until no task is listed in the
tree before removing the directories deepest first. On cgroup v2, `cgroup.kill` does the
first three at once.

The functions work on paths of either version: they look for the files each one has.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

POLL_S = 0.01
# (file, frozen value, thawed value) for cgroup v1's freezer and v2's core freezer.
FREEZERS = (("freezer.state", "FROZEN", "THAWED"), ("cgroup.freeze", "1", "0"))


@dataclass(frozen=True)
class TreeReaped:
    processes: int  # processes found in the tree
    frozen: int  # cgroups found frozen
    removed: int  # directories removed
    complete: bool  # no directory of the tree is left


def tree(parent: Path) -> list[Path]:
    """The parent and every cgroup below it, deepest first."""
    if not parent.is_dir():
        return []
    found = [Path(root) for root, _, _ in os.walk(parent, topdown=False)]
    return found


def members(directory: Path) -> set[int]:
    try:
        return {int(pid) for pid in (directory / "cgroup.procs").read_text().split()}
    except (OSError, ValueError):
        return set()


def frozen(directory: Path) -> bool:
    for name, frozen_value, _ in FREEZERS:
        with contextlib.suppress(OSError):
            state = (directory / name).read_text().strip()
            return state in (frozen_value, "FREEZING")
    return False


def set_frozen(directory: Path, value: bool) -> None:
    for name, frozen_value, thawed_value in FREEZERS:
        path = directory / name
        if path.exists():
            with contextlib.suppress(OSError):
                path.write_text(frozen_value if value else thawed_value)
            return


def kill_members(directories: Sequence[Path]) -> int:
    killed = 0
    for directory in directories:
        for pid in members(directory):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed


def remaining(parent: Path) -> int:
    """Tasks still listed in the tree. A task leaves `cgroup.procs` late in its exit, after
    its memory, files and namespaces are released: what is left of it holds nothing of the
    host. (The pids controller counts it until its parent, often init, collects its exit
    status; waiting for that measured 1-2 s here, for nothing.)"""
    return sum(len(members(d)) for d in tree(parent))


def kill_tree(parents: Sequence[Path], timeout_s: float = 10.0) -> TreeReaped:
    """Kill and remove the trees under `parents` (one per v1 hierarchy, or one v2 tree)."""
    levels = [d for parent in parents for d in tree(parent)]
    if not levels:
        return TreeReaped(0, 0, 0, True)
    processes = len(set().union(*(members(d) for d in levels)))
    was_frozen = sum(1 for d in levels if frozen(d))
    deadline = time.monotonic() + timeout_s
    while True:
        _kill_once(parents, levels)
        if all(remaining(p) == 0 for p in parents):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    removed = 0
    for directory in levels:  # deepest first, hierarchy by hierarchy
        with contextlib.suppress(FileNotFoundError):
            try:
                directory.rmdir()
                removed += 1
            except OSError:
                continue
    complete = not any(p.exists() for p in parents)
    return TreeReaped(processes, was_frozen, removed, complete)


def _kill_once(parents: Sequence[Path], levels: Sequence[Path]) -> None:
    for parent in parents:
        kill = parent / "cgroup.kill"
        if kill.exists():
            with contextlib.suppress(OSError):
                kill.write_text("1")
        set_frozen(parent, True)
    kill_members(levels)
    for directory in reversed(levels):  # parents before their children
        set_frozen(directory, False)
