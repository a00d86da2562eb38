"""What a starting sandbox does about the others on this host: reap the dead, avoid the living.

Under the registry's lock, before it creates anything, a sandbox
  1. reaps every sandbox whose record names a dead process (reaper.py): processes (thawed
     first), cgroups, veths and routes, nft table, loop devices, /tmp images;
  2. reaps objects named like a sandbox's that no record names (a record lost, or removed
     by a server from before the reaper) - never those of a live record;
  3. claims a subnet that no live sandbox claims and no route of the host overlaps
     (subnets.py), and writes its own record.
A server whose predecessor still runs (a concurrent server, on any data dir) finds it alive
and leaves it alone. Each reap is logged: one line per dead sandbox.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path

from lambent.sandbox.namespaces import reaper, subnets
from lambent.sandbox.namespaces.registry import Record, Registry, own_record

log = logging.getLogger(__name__)


class TagInUse(OSError):
    """A live sandbox already has this tag."""


@dataclass(frozen=True)
class Claim:
    record: Record
    registration: Path
    reaped: list[reaper.Reaped]


def claim(
    registry: Registry,
    tag: str,
    cgroups: tuple[Path, ...],
    cgroup_roots: tuple[Path, ...],
    scratch_dir: Path | None,
    configured_subnet: ipaddress.IPv4Network | None = None,
) -> Claim:
    """Blocking: reap the dead, then register this sandbox with a subnet nobody uses."""
    with registry.locked():
        records = registry.records()
        live = [r for r in records if r.alive()]
        if any(r.tag == tag for r in live):
            raise TagInUse(f"sandbox tag {tag} is already in use")
        reaped = sweep(registry, [r for r in records if not r.alive()])
        # Dead records were just reaped (what is left of them is tried at the next start).
        orphans = reaper.reap_orphans({r.tag for r in records}, cgroup_roots, scratch_dir)
        reaped.extend(o for o in orphans if o.anything)
        for done in orphans:
            if done.anything:
                log.warning("reaped leftovers of %s", done.describe())
        claimed = [r.subnet for r in live if r.subnet is not None]
        subnet = subnets.choose(claimed, subnets.host_routes(), configured_subnet)
        record = own_record(tag, cgroups, subnet, scratch_dir)
        return Claim(record, registry.write(record), reaped)


def sweep(registry: Registry, dead: list[Record]) -> list[reaper.Reaped]:
    """Reap each dead record; forget it only once nothing it names is left."""
    reaped = []
    for record in dead:
        done = reaper.reap(record)
        reaped.append(done)
        if done.complete:
            registry.remove(record.tag)
        if done.anything:
            log.warning("reaped dead server pid %d: %s", record.pid, done.describe())
    return reaped
