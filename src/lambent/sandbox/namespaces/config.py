"""Knobs of the namespaces backend, derived from the one Settings object."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lambent.sandbox.namespaces.uids import DEFAULT_BASE, DEFAULT_COUNT
from lambent.settings import Settings

TmpBackend = Literal["ext4", "tmpfs"]


def _tag() -> str:
    return secrets.token_hex(2)


@dataclass(frozen=True)
class NamespacesConfig:
    work: Path  # state: template root staging dir, /tmp images
    network_slots_ready: int = 8
    scratch_ready: int = 4  # ready /tmp images per size in use
    scratch_sizes: tuple[int, ...] = (512,)  # sizes kept ready from the start
    tmp_backend: TmpBackend = "ext4"
    uid_base: int = DEFAULT_BASE
    uid_count: int = DEFAULT_COUNT
    # The host uid/gid that is root inside environments (idmap.py): used by nothing else.
    root_uid: int = DEFAULT_BASE - 1
    # Short tag naming this sandbox's host objects (veths, nft table, cgroups).
    tag: str = field(default_factory=_tag)
    subnet: str | None = None  # default: a free /16 in 100.64.0.0/10, claimed at start
    blocked_host_ports: tuple[int, ...] = ()  # host loopback ports environments may not reach
    # Host ports that see an environment as the remote client it is (no SNAT to 127.0.0.1):
    # the server's public API, whose loopback-only endpoints must stay closed to functions.
    public_host_ports: tuple[int, ...] = ()
    # Builds every runtime's root; stays the zygote of node/provided runtimes (a Python
    # runtime's zygote re-executes as the runtime's own interpreter).
    zygote_python: str = "/usr/bin/python3.11"
    template_timeout_s: float = 30.0
    start_timeout_s: float = 20.0  # waiting for the first slots and /tmp images
    # Forks kept isolated and parked per template, ready for an environment's variables.
    standby_per_template: int = 1
    standby_refill_delay_s: float = 0.05
    cgroup_root: Path = Path("/sys/fs/cgroup")

    @property
    def cgroup_name(self) -> str:
        return f"lambent-{self.tag}"

    @classmethod
    def from_settings(cls, settings: Settings, work: Path) -> NamespacesConfig:
        # A worker's internal listener is never reachable from its environments (its
        # requests are signed too: the secret is what keeps other hosts' functions out).
        cluster = settings.cluster
        internal = (cluster.internal_port,) if settings.role == "worker" else ()
        return cls(
            work=work,
            network_slots_ready=settings.environments.network_slots_ready,
            public_host_ports=(settings.port,),
            blocked_host_ports=tuple(p for p in internal if p),
        )
