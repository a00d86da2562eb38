"""The nftables table of one sandbox: NAT for egress and the host address, and the filters
that keep environments away from each other and from the host (see network.py)."""

from __future__ import annotations

import ipaddress
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lambent.sandbox.namespaces.network import AddressPlan

HOST_ADDRESS = "169.254.100.1"
# Where every Lambent server on a host puts its slots (one /16 each, see registry.py).
SLOT_SPACE = "100.64.0.0/10"
_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def ruleset(
    table: str,
    plan: AddressPlan,
    blocked_ports: tuple[int, ...],
    public_ports: tuple[int, ...] = (),
) -> str:
    """The whole table: replaced atomically (create-if-missing, delete, define).

    Connections to the host address are SNATed to 127.0.0.1 (a host service that trusts
    local clients accepts the function), except to `public_ports`: the server's own API
    sees an environment as the remote client it is, so its loopback-only endpoints
    (/_lambent/stats) stay closed to functions.
    """
    p = plan
    blocked = ", ".join(str(port) for port in blocked_ports)
    block_rule = (
        f'    iifname "{p.wildcard}" ip daddr 127.0.0.1 tcp dport {{ {blocked} }} drop\n'
        if blocked
        else ""
    )
    public = ", ".join(str(port) for port in public_ports)
    keep_source = (
        f'    iifname "{p.wildcard}" ip daddr 127.0.0.1 tcp dport {{ {public} }} accept\n'
        if public
        else ""
    )
    # No slot address is ever forwarded to, routed or not: an unrouted one would leave by
    # the default route (where a transparent proxy may answer anything), and another
    # server's slots are outside this table's wildcard.
    no_slots = "".join(
        f'    iifname "{p.wildcard}" ip daddr {space} drop\n' for space in _slot_spaces(p.subnet)
    )
    return (
        f"table ip {table} {{}}\n"
        f"delete table ip {table}\n"
        f"table ip {table} {{\n"
        "  chain prerouting {\n"
        "    type nat hook prerouting priority dstnat;\n"
        f'    iifname "{p.wildcard}" ip daddr {HOST_ADDRESS} dnat to 127.0.0.1\n'
        "  }\n"
        "  chain input_nat {\n"
        "    type nat hook input priority 100;\n"
        f"{keep_source}"
        f'    iifname "{p.wildcard}" ip daddr 127.0.0.1 snat to 127.0.0.1\n'
        "  }\n"
        "  chain postrouting {\n"
        "    type nat hook postrouting priority srcnat;\n"
        f'    ip saddr {p.subnet} oifname != "{p.wildcard}" masquerade\n'
        "  }\n"
        "  chain input {\n"
        "    type filter hook input priority filter;\n"
        f'    iifname "{p.wildcard}" ip saddr != {p.subnet} drop\n'
        f"{block_rule}"
        f'    iifname "{p.wildcard}" ct state established,related accept\n'
        f'    iifname "{p.wildcard}" ip daddr 127.0.0.1 accept\n'
        f'    iifname "{p.wildcard}" drop\n'
        "  }\n"
        "  chain forward {\n"
        "    type filter hook forward priority filter;\n"
        f'    iifname "{p.wildcard}" oifname "{p.wildcard}" drop\n'
        f'    iifname "{p.wildcard}" ip saddr != {p.subnet} drop\n'
        f'    iifname "{p.wildcard}" ip daddr 127.0.0.0/8 drop\n'
        f"{no_slots}"
        "  }\n"
        "}\n"
    )


def _slot_spaces(subnet: ipaddress.IPv4Network) -> list[str]:
    """The slot space, and this sandbox's subnet if an operator configured one outside it."""
    space = ipaddress.IPv4Network(SLOT_SPACE)
    return [SLOT_SPACE] if subnet.subnet_of(space) else [SLOT_SPACE, str(subnet)]


def apply(script: str) -> None:
    subprocess.run(
        ["nft", "-f", "-"],
        input=script.encode(),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_ENV,
    )


def tables() -> list[str]:
    """Names of this host's `ip` family tables."""
    listing = subprocess.run(
        ["nft", "list", "tables", "ip"],
        check=False,
        capture_output=True,
        text=True,
        env=_ENV,
    ).stdout
    return [line.split()[2] for line in listing.splitlines() if len(line.split()) == 3]


def delete(table: str) -> None:
    """Drop one table if it exists."""
    subprocess.run(
        ["nft", "delete", "table", "ip", table],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_ENV,
    )
