"""Which /16 of 100.64.0.0/10 a starting sandbox routes its slots through.

Two sandboxes routing the same /30 through different veths misroute each other's replies:
a function then reaches the host address only some of the time, and nothing says why. So a
/16 is free only if no live sandbox claims it *and* no route of the host, in any table,
overlaps it: the registry does not know about a dead server's veths that could not be
removed, nor about a VPN or a container network using the same shared address space. The
default route (prefix length 0) overlaps everything and is not counted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from lambent.sandbox.namespaces.netlink import Netlink, Route
from lambent.sandbox.namespaces.registry import default_subnet

SUBNETS = 64  # /16s in 100.64.0.0/10


class SubnetUnavailable(OSError):
    """No subnet this sandbox may route (all claimed or routed, or the configured one is)."""


def in_use(
    claimed: Iterable[ipaddress.IPv4Network], routes: Iterable[Route]
) -> list[ipaddress.IPv4Network]:
    """Every network a new sandbox must not overlap."""
    used = list(claimed)
    used.extend(r.destination for r in routes if r.destination.prefixlen > 0)
    return used


def choose(
    claimed: Iterable[ipaddress.IPv4Network],
    routes: Iterable[Route],
    configured: ipaddress.IPv4Network | None = None,
    count: int = SUBNETS,
) -> ipaddress.IPv4Network:
    """The configured subnet if nothing uses it, else the first free default /16."""
    used = in_use(claimed, routes)
    if configured is not None:
        clash = next((u for u in used if u.overlaps(configured)), None)
        if clash is not None:
            raise SubnetUnavailable(
                f"subnet {configured} overlaps {clash}, already in use on this host"
            )
        return configured
    for index in range(count):
        candidate = default_subnet(index)
        if not any(u.overlaps(candidate) for u in used):
            return candidate
    raise SubnetUnavailable(
        "every /16 of 100.64.0.0/10 is claimed by a running sandbox or routed on this host"
    )


def host_routes() -> list[Route]:
    """The host's IPv4 routes, every table (the caller's netns: the host's)."""
    with Netlink() as nl:
        return nl.routes()
