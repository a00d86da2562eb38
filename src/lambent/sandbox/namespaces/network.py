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
import errno
import ipaddress
import os
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from lambent.guest.lambent_guest import linux
from lambent.sandbox.namespaces import nftables
from lambent.sandbox.namespaces.netlink import Netlink
from lambent.sandbox.namespaces.scratch import lower_thread_priority

HOST_ADDRESS = nftables.HOST_ADDRESS
HOST_NAME = "host.lambent.internal"
RUNTIME_API_ADDRESS = ("127.0.0.1", 9001)
GUEST_IFNAME = "eth0"
RECYCLE_RETRY_S = 0.05
REFILL_DELAY_S = 0.1
RECYCLE_ATTEMPTS = 40

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
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(RUNTIME_API_ADDRESS)
        listener.listen(128)
    except BaseException:
        listener.close()
        raise
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

    def __init__(
        self,
        plan: AddressPlan,
        ready: int,
        blocked_ports: tuple[int, ...],
        public_ports: tuple[int, ...] = (),
    ) -> None:
        self.plan = plan
        self.ready_target = ready
        self.blocked_ports = blocked_ports
        self.public_ports = public_ports
        self.table = f"lambent_{plan.tag}"
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._free = deque(range(plan.capacity))
        self._ready: dict[bool, deque[Slot]] = {True: deque(), False: deque()}
        self._live: dict[int, Slot] = {}
        # (due time, attempts, slot): released slots waiting for their new listener.
        self._recycling: deque[tuple[float, int, Slot]] = deque()
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
        nftables.apply(
            nftables.ruleset(self.table, self.plan, self.blocked_ports, self.public_ports)
        )
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
            self._recycling.clear()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for slot in slots:
            self._destroy(slot)
        with contextlib.suppress(subprocess.CalledProcessError):
            nftables.apply(f"delete table ip {self.table}\n")
        with self._host_lock:
            if self._host_socket is not None:
                self._host_socket.close()
                self._host_socket = None

    # -- slots -----------------------------------------------------------------------------
    def wait_ready(self, timeout_s: float) -> bool:
        """Block until the pools hold their targets (start-up), or the timeout."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._short() is not None and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.05))
        return True

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
        """An environment is dead. A host-made slot is recycled: netns, veth and routes stay,
        only the Runtime API socket is made anew, by the refill thread, once the old one is
        closed everywhere (the environment layer may still hold a duplicate for a moment:
        a second listener on 127.0.0.1:9001 cannot bind until it is gone). Others are torn
        down."""
        with self._lock:
            if slot.released:
                return
            if slot.listener is not None:
                slot.listener.close()
                slot.listener = None
            waiting = len(self._ready[slot.egress]) + len(self._recycling)
            if slot.recyclable and not self._closed and waiting < max(1, self.ready_target):
                self._recycling.append((time.monotonic(), 0, slot))
                self._wake.notify()
                return
            slot.released = True
        self._destroy(slot)

    def _recycle_due(self) -> None:
        """Refill thread: give recycled slots their new listener (retrying while busy)."""
        now = time.monotonic()
        with self._lock:
            due = [entry for entry in self._recycling if entry[0] <= now]
            for entry in due:
                self._recycling.remove(entry)
        for _, attempts, slot in due:
            try:
                slot.listener = in_netns(slot.netns_fd, _listen)
            except OSError as err:
                if err.errno == errno.EADDRINUSE and attempts < RECYCLE_ATTEMPTS:
                    with self._lock:
                        self._recycling.append((now + RECYCLE_RETRY_S, attempts + 1, slot))
                    continue
                self._destroy(slot)
                continue
            with self._lock:
                closed = self._closed
                if not closed:
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
                while not self._closed and not self._short() and not self._recycling:
                    self._wake.wait()
                if self._closed:
                    return
                recycling = bool(self._recycling)
                egress = self._short()
            if recycling:
                self._recycle_due()
                if egress is None:
                    with self._lock:
                        self._wake.wait(RECYCLE_RETRY_S)
                    continue
            if egress is None:
                continue
            if self._short_by_one() and not self._still_short_after(REFILL_DELAY_S):
                continue
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

    def _short_by_one(self) -> bool:
        """The steady state of create/destroy: one slot out, about to come back. (Filling
        at start-up or after a burst goes at full speed.)"""
        with self._lock:
            ready = len(self._ready[True]) + sum(1 for e in self._recycling if e[2].egress)
            return ready == self.ready_target - 1

    def _still_short_after(self, delay_s: float) -> bool:
        """Give slots being released a moment to come back before making a new one: making
        one while a recycled one is on its way would only throw one away."""
        deadline = time.monotonic() + delay_s
        with self._lock:
            while not self._closed and time.monotonic() < deadline:
                self._wake.wait(deadline - time.monotonic())
            return not self._closed and self._short() is not None

    def _short(self) -> str | None:
        """Which pool needs a new slot (recycled slots on their way back count as ready)."""
        pending = {True: 0, False: 0}
        for _, _, slot in self._recycling:
            pending[slot.egress] += 1
        if len(self._ready[True]) + pending[True] < self.ready_target:
            return "egress"
        if len(self._ready[False]) + pending[False] < max(1, self.ready_target // 4):
            return "none"
        return None


def _write_sysctl(name: str, value: str) -> None:
    with open(f"/proc/sys/{name}", "w", encoding="ascii") as fh:
        fh.write(value)
