"""A minimal synchronous rtnetlink client for the handful of calls network slots need.

Why not pyroute2: its 0.9 sockets are created lazily on its own event loop, so a socket
"opened" on a thread that has setns()'d into an environment's netns may in fact be bound to
the host's netns (we watched it add an address to the host's eth0). Slots are configured
from a thread that enters the slot's netns; the netlink socket has to be created right
there, synchronously. These few messages are simple enough to encode by hand.
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass

NETLINK_ROUTE = 0
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_NEWADDR = 20
RTM_NEWROUTE = 24
RTM_GETROUTE = 26
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLMSG_ERROR = 2
NLMSG_DONE = 3
IFLA_IFNAME = 3
IFLA_LINKINFO = 18
IFLA_NET_NS_FD = 28
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
VETH_INFO_PEER = 1
IFA_ADDRESS = 1
IFA_LOCAL = 2
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_TABLE = 15
IFF_UP = 0x1
RT_TABLE_MAIN = 254
RTPROT_BOOT = 3
RT_SCOPE_UNIVERSE = 0
RTN_UNICAST = 1
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
SIOCGIFINDEX = 0x8933


def _attr(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    pad = (4 - length % 4) % 4
    return struct.pack("=HH", length, kind) + payload + b"\0" * pad


@dataclass(frozen=True)
class Route:
    """One IPv4 route of any table (main, local, policy tables)."""

    destination: ipaddress.IPv4Network
    table: int
    oif: int | None


def _attrs(data: bytes, offset: int, end: int) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    while offset + 4 <= end:
        length, kind = struct.unpack_from("=HH", data, offset)
        if length < 4:
            break
        found[kind & 0x3FFF] = data[offset + 4 : offset + length]
        offset += (length + 3) & ~3
    return found


def _route(data: bytes, offset: int, end: int) -> Route:
    _, dst_len, _, _, table = struct.unpack_from("=BBBBB", data, offset)
    attrs = _attrs(data, offset + 12, end)
    destination = attrs.get(RTA_DST, b"\0\0\0\0")
    if RTA_TABLE in attrs:
        (table,) = struct.unpack("=I", attrs[RTA_TABLE])
    oif = struct.unpack("=i", attrs[RTA_OIF])[0] if RTA_OIF in attrs else None
    network = ipaddress.IPv4Network((destination, dst_len), strict=False)
    return Route(network, table, oif)


def _ifinfo(index: int = 0, flags: int = 0, change: int = 0) -> bytes:
    return struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, flags, change)


class Netlink:
    """One NETLINK_ROUTE socket, bound to the netns of the thread that created it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self._seq = 0
        # An AF_INET socket of the same netns, for the interface ioctls.
        self._ioctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def close(self) -> None:
        self.sock.close()
        self._ioctl.close()

    def __enter__(self) -> Netlink:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _request(self, kind: int, flags: int, body: bytes) -> None:
        self._seq += 1
        header = struct.pack(
            "=IHHII", 16 + len(body), kind, flags | NLM_F_REQUEST | NLM_F_ACK, self._seq, 0
        )
        self.sock.send(header + body)
        while True:
            data = self.sock.recv(65536)
            offset = 0
            while offset < len(data):
                length, msg_type, _, seq, _ = struct.unpack_from("=IHHII", data, offset)
                if msg_type == NLMSG_ERROR and seq == self._seq:
                    (code,) = struct.unpack_from("=i", data, offset + 16)
                    if code:
                        raise OSError(-code, f"rtnetlink: {os.strerror(-code)}")
                    return
                offset += (length + 3) & ~3

    def _dump(self, kind: int, body: bytes) -> Iterator[tuple[int, bytes, int, int]]:
        """A dump request: yields (type, buffer, payload offset, payload end) per message."""
        self._seq += 1
        header = struct.pack(
            "=IHHII", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, self._seq, 0
        )
        self.sock.send(header + body)
        while True:
            data = self.sock.recv(1 << 16)
            offset = 0
            while offset + 16 <= len(data):
                length, msg_type, _, seq, _ = struct.unpack_from("=IHHII", data, offset)
                if length < 16:
                    return
                if seq == self._seq:
                    if msg_type == NLMSG_DONE:
                        return
                    if msg_type == NLMSG_ERROR:
                        (code,) = struct.unpack_from("=i", data, offset + 16)
                        if code:
                            raise OSError(-code, f"rtnetlink: {os.strerror(-code)}")
                        return
                    yield msg_type, data, offset + 16, offset + length
                offset += (length + 3) & ~3

    def routes(self) -> list[Route]:
        """Every IPv4 route of this netns, in every table."""
        body = struct.pack("=BBBBBBBBI", socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)
        return [
            _route(data, start, end)
            for kind, data, start, end in self._dump(RTM_GETROUTE, body)
            if kind == RTM_NEWROUTE
        ]

    def add_veth(self, host_name: str, peer_name: str, peer_netns_fd: int) -> None:
        """A veth pair with one end here and its peer created directly inside another netns."""
        peer = (
            _ifinfo()
            + _attr(IFLA_IFNAME, peer_name.encode() + b"\0")
            + _attr(IFLA_NET_NS_FD, struct.pack("=I", peer_netns_fd))
        )
        info = _attr(IFLA_INFO_KIND, b"veth\0") + _attr(IFLA_INFO_DATA, _attr(VETH_INFO_PEER, peer))
        body = (
            _ifinfo() + _attr(IFLA_IFNAME, host_name.encode() + b"\0") + _attr(IFLA_LINKINFO, info)
        )
        self._request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body)

    def delete_link(self, name: str) -> bool:
        try:
            self._request(RTM_DELLINK, 0, _ifinfo() + _attr(IFLA_IFNAME, name.encode() + b"\0"))
        except OSError as err:
            if err.errno in (errno.ENODEV, errno.ENOENT):
                return False
            raise
        return True

    def index_of(self, name: str) -> int:
        req = struct.pack("16s16x", name.encode())
        res = fcntl.ioctl(self._ioctl.fileno(), SIOCGIFINDEX, req)
        return int(struct.unpack_from("=i", res, 16)[0])

    def set_up(self, name: str) -> None:
        req = struct.pack("16sH14x", name.encode(), 0)
        res = fcntl.ioctl(self._ioctl.fileno(), SIOCGIFFLAGS, req)
        (flags,) = struct.unpack_from("=H", res, 16)
        fcntl.ioctl(
            self._ioctl.fileno(),
            SIOCSIFFLAGS,
            struct.pack("16sH14x", name.encode(), flags | IFF_UP),
        )

    def add_address(self, name: str, address: str, prefixlen: int) -> None:
        index = self.index_of(name)
        packed = ipaddress.IPv4Address(address).packed
        body = struct.pack("=BBBBI", socket.AF_INET, prefixlen, 0, RT_SCOPE_UNIVERSE, index)
        body += _attr(IFA_LOCAL, packed) + _attr(IFA_ADDRESS, packed)
        self._request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body)

    def add_default_route(self, gateway: str, device: str) -> None:
        index = self.index_of(device)
        body = struct.pack(
            "=BBBBBBBBI",
            socket.AF_INET,
            0,
            0,
            0,
            RT_TABLE_MAIN,
            RTPROT_BOOT,
            RT_SCOPE_UNIVERSE,
            RTN_UNICAST,
            0,
        )
        body += _attr(RTA_GATEWAY, ipaddress.IPv4Address(gateway).packed)
        body += _attr(RTA_OIF, struct.pack("=i", index))
        self._request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, body)
