"""Remove what a dead sandbox left on the host (its server was SIGKILLed or crashed).

What a sandbox makes, and how each goes:
  * processes: zygotes and templates (in the `templates` cgroup) and environments (each
    in its own leaf), frozen or not: thawed and killed through their cgroups
    (cgroup_reap.py), which are then removed;
  * veths `lb<tag><i>` and, with them, the /30 routes of the slot subnet: deleted (their
    namespaces die with the processes; a veth can outlive them for a moment);
  * the nft table `lambent_<tag>`: deleted;
  * /tmp images: their loop devices detach themselves once the last mount goes with the
    environments' mount namespaces (autoclear); any still attached is cleared, and the
    image files are deleted;
  * the registry record, last, and only once nothing of the above is left: a reap that
    could not finish is tried again at the next start (and the subnet check keeps a new
    sandbox off any subnet that is still routed meanwhile).

Mounts: the sandbox makes none in the host's mount namespace (template roots are built in
their own; /tmp mounts are detached), so there are none to remove.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lambent.sandbox.namespaces import nftables
from lambent.sandbox.namespaces.cgroup_reap import kill_tree
from lambent.sandbox.namespaces.netlink import Netlink
from lambent.sandbox.namespaces.registry import Record

log = logging.getLogger(__name__)

LOOP_CLR_FD = 0x4C01
LOOP_DETACH_WAIT_S = 2.0
POLL_S = 0.01
# Default tags (secrets.token_hex(2)): only objects named like this are reaped without a
# record, so nothing of another program is taken for ours.
ORPHAN_TAG = r"[0-9a-f]{4}"
ORPHAN_CGROUP = re.compile(rf"lambent-({ORPHAN_TAG})")
ORPHAN_LINK = re.compile(rf"lb({ORPHAN_TAG})\d+")
ORPHAN_TABLE = re.compile(rf"lambent_({ORPHAN_TAG})")
OUR_LEAF = re.compile(r"[0-9a-f]{32}|templates")
IMAGE = re.compile(r"tmp-(.+)-\d+\.img")


@dataclass
class Reaped:
    """What one reap removed: for the operator's log line, and for tests."""

    tag: str
    processes: int = 0
    frozen: int = 0
    cgroups: int = 0
    links: int = 0
    tables: int = 0
    loops: int = 0
    images: int = 0
    left: list[str] = field(default_factory=list)  # what could not be removed
    took_ms: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.left

    @property
    def anything(self) -> bool:
        counts = (self.processes, self.cgroups, self.links, self.tables, self.loops, self.images)
        return any(counts) or bool(self.left)

    def describe(self) -> str:
        parts = [
            f"{self.processes} processes",
            f"{self.frozen} frozen cgroups",
            f"{self.cgroups} cgroups",
            f"{self.links} veths",
            f"{self.tables} nft tables",
            f"{self.loops} loop devices",
            f"{self.images} /tmp images",
        ]
        text = f"sandbox {self.tag}: removed " + ", ".join(parts) + f" in {self.took_ms:.0f} ms"
        if self.left:
            text += "; could not remove " + ", ".join(self.left)
        return text


def reap(record: Record, timeout_s: float = 10.0) -> Reaped:
    """Remove everything `record` names. Its owner must be dead (the caller checks)."""
    started = time.monotonic()
    done = Reaped(record.tag)
    veth = re.compile(re.escape(record.link_prefix) + r"\d+")
    prefix = "" if record.scratch_dir is None else str(record.scratch_dir / record.scratch_prefix)
    # Counted before the kill: veths and loop devices go by themselves once the processes
    # holding their namespaces and mounts are gone.
    done.links = sum(1 for name in link_names() if veth.fullmatch(name))
    if prefix:
        done.loops = sum(1 for b in loop_backings().values() if b.startswith(prefix))
    trees = kill_tree(record.cgroups, timeout_s)
    done.processes, done.frozen, done.cgroups = trees.processes, trees.frozen, trees.removed
    if not trees.complete:
        done.left.append("cgroups " + " ".join(str(p) for p in record.cgroups if p.exists()))
    delete_links(veth)
    if any(veth.fullmatch(name) for name in link_names()):
        done.left.append(f"veths {record.link_prefix}*")
    if record.nft_table in nftables.tables():
        nftables.delete(record.nft_table)
        done.tables = 1
        if record.nft_table in nftables.tables():
            done.left.append(f"nft table {record.nft_table}")
    if record.scratch_dir is not None:
        clear_loop_devices(lambda backing: backing.startswith(prefix))
        if any(b.startswith(prefix) for b in loop_backings().values()):
            done.left.append(f"loop devices over {prefix}*")
        images = list(record.scratch_dir.glob(f"{record.scratch_prefix}*.img"))
        done.images = remove_files(images)
    done.took_ms = (time.monotonic() - started) * 1000
    return done


def reap_orphans(
    live_tags: set[str], cgroup_roots: Sequence[Path], scratch_dir: Path | None
) -> list[Reaped]:
    """Objects named like a sandbox's whose tag has no record at all (a record lost, or
    removed by a server before this reaper existed). Never those of a live tag."""
    found: dict[str, Reaped] = {}

    def entry(tag: str) -> Reaped:
        return found.setdefault(tag, Reaped(tag))

    parents: dict[str, list[Path]] = {}
    for root in cgroup_roots:
        for tag, parent in orphan_cgroups(root, live_tags):
            parents.setdefault(tag, []).append(parent)
    for tag, dirs in parents.items():
        trees = kill_tree(dirs)
        done = entry(tag)
        done.processes, done.frozen, done.cgroups = trees.processes, trees.frozen, trees.removed
        if not trees.complete:
            done.left.append("cgroups " + " ".join(str(p) for p in dirs if p.exists()))
    for name in link_names():
        match = ORPHAN_LINK.fullmatch(name)
        if match and match.group(1) not in live_tags:
            entry(match.group(1)).links += delete_links(re.compile(re.escape(name)))
    for table in nftables.tables():
        match = ORPHAN_TABLE.fullmatch(table)
        if match and match.group(1) not in live_tags:
            nftables.delete(table)
            entry(match.group(1)).tables += 1
    if scratch_dir is not None and scratch_dir.is_dir():
        _orphan_images(live_tags, scratch_dir, entry)
    return list(found.values())


def _orphan_images(live_tags: set[str], scratch_dir: Path, entry: Callable[[str], Reaped]) -> None:
    stale: dict[str, list[Path]] = {}
    for image in scratch_dir.glob("*.img"):
        match = IMAGE.fullmatch(image.name)
        tag = match.group(1) if match else ""
        if tag not in live_tags:
            stale.setdefault(tag, []).append(image)
    for tag, images in stale.items():
        names = {str(i) for i in images}
        done = entry(tag or "?")
        done.loops += clear_loop_devices(names.__contains__)
        done.images += remove_files(images)


def orphan_cgroups(root: Path, live_tags: set[str]) -> Iterable[tuple[str, Path]]:
    """`lambent-<tag>` directories anywhere in one hierarchy, holding only leaves of ours."""
    for current, dirs, _ in os.walk(root):
        for name in list(dirs):
            match = ORPHAN_CGROUP.fullmatch(name)
            if match is None:
                continue
            dirs.remove(name)  # never descend into a sandbox's tree
            path = Path(current) / name
            if match.group(1) in live_tags:
                continue
            with contextlib.suppress(OSError):
                if all(OUR_LEAF.fullmatch(p.name) for p in path.iterdir() if p.is_dir()):
                    yield match.group(1), path


def link_names() -> list[str]:
    """Interfaces of the caller's network namespace (the host's)."""
    return [name for _, name in socket.if_nameindex()]


def delete_links(pattern: re.Pattern[str]) -> int:
    """Delete the host's links whose whole name matches (returns how many there were);
    deleting a veth's host end deletes its peer and the routes through it."""
    names = [n for n in link_names() if pattern.fullmatch(n)]
    if names:
        with Netlink() as nl:
            for name in names:
                with contextlib.suppress(OSError):
                    nl.delete_link(name)  # gone already if its namespace just died
    return len(names)


def loop_backings() -> dict[str, str]:
    """Attached loop devices and the file behind each."""
    found = {}
    for device in Path("/sys/block").glob("loop*"):
        with contextlib.suppress(OSError):
            backing = (device / "loop" / "backing_file").read_text().strip()
            found[device.name] = backing.removesuffix(" (deleted)")
    return found


def clear_loop_devices(ours: Callable[[str], bool], wait_s: float = LOOP_DETACH_WAIT_S) -> int:
    """Loop devices over our images: they detach themselves once their mount is gone
    (autoclear) - give them a moment - and any left are cleared. Returns how many are
    cleared."""
    devices = [name for name, backing in loop_backings().items() if ours(backing)]
    deadline = time.monotonic() + wait_s
    while devices and time.monotonic() < deadline:
        attached = loop_backings()
        devices = [name for name in devices if name in attached and ours(attached[name])]
        if devices:
            time.sleep(POLL_S)
    for name in devices:
        with contextlib.suppress(OSError):
            fd = os.open(f"/dev/{name}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                fcntl.ioctl(fd, LOOP_CLR_FD, 0)
            finally:
                os.close(fd)
    return len(devices)


def remove_files(paths: Iterable[Path]) -> int:
    removed = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed
