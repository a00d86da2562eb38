"""Network slots: a netns per environment, made ahead of time, with egress through NAT.

A slot is everything an environment's network needs, ready before anyone asks:
  * a network namespace with `lo` up and the Runtime API socket already listening on
    127.0.0.1:9001 inside it (only that environment can reach it: it is on its loopback);
  * for egress, a veth pair: `eth0` inside with 100.64+.x.(4i+2)/30, the host end
    `lb<tag><i>` with .(4i+1), and a default route through it.

Address mapping (documented in docs/SANDBOX.md):
  * `HOST_ADDRESS` (169.254.100.1, also `host.lambent.internal` in /etc/hosts) inside every
    environment is the host's loopback: nftables DNATs it to 127.0.0.1 (route_localnet on the
    host end) and SNATs the connection to 127.0.0.1, so a host service that trusts local
    clients (PostgreSQL's `host all all 127.0.0.1/32`) sees a local client. Ports listed as
    blocked (the server's internal ports) are dropped.
  * everything else leaves through the host's default route, masqueraded;
  * forwarding between slots is dropped, and so is any other packet from a slot to a host
    address: environments cannot reach each other, nor the host beyond the mapped loopback.

Slots are made on a background thread (~5-20 ms each: veth creation dominates) and are not
reused: a dead environment's slot is torn down and its index handed to a fresh one.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from lambent.guest.lambent_guest import linux
from lambent.sandbox.namespaces.netlink import Netlink
from lambent.sandbox.namespaces.scratch import lower_thread_priority

HOST_ADDRESS = "169.254.100.1"
HOST_NAME = "host.lambent.internal"
RUNTIME_API_ADDRESS = ("127.0.0.1", 9001)
GUEST_IFNAME = "eth0"

T = TypeVar("T")


@dataclass
class Slot:
    index: int
    egress: bool
    netns_fd: int
    listener: socket.socket | None  # None: the environment makes its own (SnapStart)
    host_ifname: str | None
    recyclable: bool = True  # made by the host; False for a netns an environment made
    released: bool = field(default=False)


@dataclass(frozen=True)
class AddressPlan:
    subnet: ipaddress.IPv4Network
    tag: str

    def host_ifname(self, index: int) -> str:
        return f"lb{self.tag}{index}"

    def host_side(self, index: int) -> str:
        return str(self.subnet.network_address + 4 * index + 1)

    def guest_side(self, index: int) -> str:
        return str(self.subnet.network_address + 4 * index + 2)

    @property
    def capacity(self) -> int:
        return self.subnet.num_addresses // 4

    @property
    def wildcard(self) -> str:
        return f"lb{self.tag}*"


def in_netns(netns_fd: int, action: Callable[[], T]) -> T:
    """Run `action` on a short-lived thread that has entered the netns (sockets made there
    stay there); the calling thread's netns is untouched."""
    result: list[T] = []
    error: list[BaseException] = []

    def body() -> None:
        try:
            linux.setns(netns_fd, linux.CLONE_NEWNET)
            result.append(action())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=body, name="lambent-netns")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def _listen() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(RUNTIME_API_ADDRESS)
    listener.listen(128)
    return listener


def _new_netns() -> tuple[int, socket.socket]:
    """On a throwaway thread: unshare a netns, bring lo up, bind the Runtime API socket."""

    def body() -> tuple[int, socket.socket]:
        linux.unshare(linux.CLONE_NEWNET)
        fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        with Netlink() as nl:
            nl.set_up("lo")
        return fd, _listen()

    result: list[tuple[int, socket.socket]] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(body())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=run, name="lambent-netns")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


class Network:
    """The host side: nftables table, sysctls, slot indices and the ready pools."""

    def __init__(self, plan: AddressPlan, ready: int, blocked_ports: tuple[int, ...]) -> None:
        self.plan = plan
        self.ready_target = ready
        self.blocked_ports = blocked_ports
        self.table = f"lambent_{plan.tag}"
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._free = deque(range(plan.capacity))
        self._ready: dict[bool, deque[Slot]] = {True: deque(), False: deque()}
        self._live: dict[int, Slot] = {}
        self._closed = False
        self._thread: threading.Thread | None = None
        self._host_socket: Netlink | None = None  # opened by start()
        self._host_lock = threading.Lock()  # one netlink socket, several threads

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def _host(self) -> Netlink:
        if self._host_socket is None:
            self._host_socket = Netlink()
        return self._host_socket

    def start(self) -> None:
        _write_sysctl("net/ipv4/ip_forward", "1")
        self._nft(self._ruleset())
        self._thread = threading.Thread(target=self._refill, name="lambent-slots", daemon=True)
        self._thread.start()

    def _is_closed(self) -> bool:
        """Read under the lock by the refill thread (a method, so no stale narrowing)."""
        return self._closed

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wake.notify_all()
            slots = list(self._live.values())
            self._ready = {True: deque(), False: deque()}
        if self._thread is not None:
            self._thread.join(timeout=10)
        for slot in slots:
            self._destroy(slot)
        with contextlib.suppress(subprocess.CalledProcessError):
            self._nft(f"delete table ip {self.table}\n")
        with self._host_lock:
            if self._host_socket is not None:
                self._host_socket.close()
                self._host_socket = None

    def _ruleset(self) -> str:
        p = self.plan
        blocked = ", ".join(str(port) for port in self.blocked_ports)
        block_rule = (
            f'    iifname "{p.wildcard}" ip daddr 127.0.0.1 tcp dport {{ {blocked} }} drop\n'
            if blocked
            else ""
        )
        return (
            f"table ip {self.table} {{}}\n"
            f"delete table ip {self.table}\n"
            f"table ip {self.table} {{\n"
            "  chain prerouting {\n"
            "    type nat hook prerouting priority dstnat;\n"
            f'    iifname "{p.wildcard}" ip daddr {HOST_ADDRESS} dnat to 127.0.0.1\n'
            "  }\n"
            "  chain input_nat {\n"
            "    type nat hook input priority 100;\n"
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
            "  }\n"
            "}\n"
        )

    def _nft(self, script: str) -> None:
        subprocess.run(
            ["nft", "-f", "-"],
            input=script.encode(),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )

    # -- slots -----------------------------------------------------------------------------
    def ready_count(self, egress: bool) -> int:
        with self._lock:
            return len(self._ready[egress])

    def take_ready(self, egress: bool) -> Slot | None:
        """A ready slot without blocking, or None."""
        with self._lock:
            ready = self._ready[egress]
            slot = ready.popleft() if ready else None
            self._wake.notify()
        return slot

    def take(self, egress: bool) -> Slot:
        """A ready slot (joinable by a root child), or one made now if the pool is empty."""
        slot = self.take_ready(egress)
        return slot if slot is not None else self._make(egress)

    def _index(self) -> int:
        with self._lock:
            if not self._free:
                raise OSError("no free network slot index")
            return self._free.popleft()

    def _make(self, egress: bool) -> Slot:
        index = self._index()
        try:
            netns_fd, listener = _new_netns()
        except BaseException:
            with self._lock:
                self._free.append(index)
            raise
        slot = Slot(index, egress, netns_fd, listener, None)
        with self._lock:
            self._live[index] = slot
        if egress:
            try:
                self.attach_veth(slot)
            except BaseException:
                self.release(slot)
                raise
        return slot

    def adopt(self, netns_fd: int, egress: bool) -> Slot:
        """Wire a netns an environment made itself (SnapStart children): veth and routes."""
        slot = Slot(self._index(), egress, netns_fd, None, None, recyclable=False)
        with self._lock:
            self._live[slot.index] = slot
        if egress:
            try:
                self.attach_veth(slot)
            except BaseException:
                self.release(slot)
                raise
        return slot

    def attach_veth(self, slot: Slot) -> None:
        p = self.plan
        name = p.host_ifname(slot.index)
        with self._host_lock:
            self._host.delete_link(name)  # a leftover of a crashed run
            self._host.add_veth(name, GUEST_IFNAME, slot.netns_fd)
            slot.host_ifname = name
            _write_sysctl(f"net/ipv4/conf/{name}/route_localnet", "1")
            self._host.add_address(name, p.host_side(slot.index), 30)
            self._host.set_up(name)
        guest, gateway = p.guest_side(slot.index), p.host_side(slot.index)

        def inside() -> None:
            with Netlink() as nl:
                nl.add_address(GUEST_IFNAME, guest, 30)
                nl.set_up(GUEST_IFNAME)
                nl.add_default_route(gateway, GUEST_IFNAME)

        in_netns(slot.netns_fd, inside)

    def release(self, slot: Slot) -> None:
        """Blocking (a worker thread). A host-made slot whose environment is dead is
        recycled: its netns, veth and routes stay, only the Runtime API socket is new (the
        old one went to the environment layer). Others are torn down."""
        with self._lock:
            if slot.released:
                return
            if slot.listener is not None:
                slot.listener.close()
                slot.listener = None
            # Up to twice the target (see ScratchPool.give_back: no make-and-discard loop).
            recycle = (
                slot.recyclable
                and not self._closed
                and len(self._ready[slot.egress]) < 2 * max(1, self.ready_target)
            )
        if recycle:
            try:
                slot.listener = in_netns(slot.netns_fd, _listen)
            except OSError:
                recycle = False
        if not recycle:
            with self._lock:
                slot.released = True
            self._destroy(slot)
            return
        with self._lock:
            if self._closed:
                closed = True
            else:
                closed = False
                self._ready[slot.egress].append(slot)
        if closed:
            self._destroy(slot)

    def _destroy(self, slot: Slot) -> None:
        slot.released = True
        if slot.listener is not None:
            slot.listener.close()
        with contextlib.suppress(OSError):
            os.close(slot.netns_fd)
        if slot.host_ifname:
            with self._host_lock, contextlib.suppress(OSError):
                self._host.delete_link(slot.host_ifname)
        with self._lock:
            if self._live.pop(slot.index, None) is not None:
                self._free.append(slot.index)

    def _refill(self) -> None:
        lower_thread_priority()
        while True:
            with self._lock:
                while not self._closed and not self._short():
                    self._wake.wait()
                if self._closed:
                    return
                egress = self._short()
            assert egress is not None
            try:
                slot = self._make(egress == "egress")
            except OSError:
                with self._lock:
                    self._wake.wait(1.0)
                continue
            with self._lock:
                if self._is_closed():
                    closed = True
                else:
                    closed = False
                    self._ready[slot.egress].append(slot)
            if closed:
                self._destroy(slot)
                return

    def _short(self) -> str | None:
        if len(self._ready[True]) < self.ready_target:
            return "egress"
        if len(self._ready[False]) < max(1, self.ready_target // 4):
            return "none"
        return None


def _write_sysctl(name: str, value: str) -> None:
    with open(f"/proc/sys/{name}", "w", encoding="ascii") as fh:
        fh.write(value)
