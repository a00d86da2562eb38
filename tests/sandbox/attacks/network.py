"""Reach things over the network: the host's PostgreSQL through the mapped host address
(reading a row with a minimal protocol client), and addresses that must stay unreachable."""

from __future__ import annotations

import json
import os
import socket
import struct
from typing import Any

HOST_ADDRESS = "169.254.100.1"


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    return socket.create_connection((host, port), timeout=timeout)


def _recv_message(sock: socket.socket) -> tuple[bytes, bytes]:
    head = b""
    while len(head) < 5:
        chunk = sock.recv(5 - len(head))
        if not chunk:
            raise ConnectionError("closed")
        head += chunk
    kind, length = head[:1], struct.unpack("!I", head[1:])[0]
    body = b""
    while len(body) < length - 4:
        chunk = sock.recv(length - 4 - len(body))
        if not chunk:
            raise ConnectionError("closed")
        body += chunk
    return kind, body


def postgres_row(host: str, port: int, timeout: float = 3.0) -> str:
    """SELECT a row over the PostgreSQL wire protocol (trust auth), return its value."""
    with _connect(host, port, timeout) as sock:
        params = b"user\0postgres\0database\0postgres\0\0"
        sock.sendall(struct.pack("!II", len(params) + 8, 196608) + params)
        while True:
            kind, body = _recv_message(sock)
            if kind == b"E":
                return "error: " + body.decode(errors="replace")
            if kind == b"R" and struct.unpack("!I", body[:4])[0] != 0:
                return "auth required"
            if kind == b"Z":
                break
        query = b"SELECT 'lambent-' || 42\0"
        sock.sendall(b"Q" + struct.pack("!I", len(query) + 4) + query)
        value = ""
        while True:
            kind, body = _recv_message(sock)
            if kind == b"D":
                size = struct.unpack("!I", body[2:6])[0]
                value = body[6 : 6 + size].decode()
            if kind == b"Z":
                return value


def _tcp(host: str, port: int, timeout: float) -> str:
    try:
        with _connect(host, port, timeout):
            return "connected"
    except OSError as err:
        return type(err).__name__


def _own_address() -> str | None:
    """The environment's eth0 address (a UDP "connect" sends nothing)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((HOST_ADDRESS, 9))
            return str(probe.getsockname()[0])
    except OSError:
        return None


def _neighbours(own: str | None) -> list[list[Any]]:
    """Where other environments' slots are: the /30s next to ours, never outside our own
    /16 (the sandbox's slot subnet): only addresses of this host's own namespaces."""
    if not own:
        return []
    a, b, c, d = (int(x) for x in own.split("."))
    base = (a << 24) | (b << 16) | (c << 8) | d
    subnet = base & 0xFFFF0000
    out = []
    for delta in (-8, -4, -1, 4, 8):  # -1: the host end of our own veth
        n = base + delta
        if n & 0xFFFF0000 != subnet or n & 0xFFFF in (0, 0xFFFF):
            continue
        out.append([f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", 9001])
    return out


def handler(event: Any, context: Any) -> dict[str, Any]:
    timeout = float(event.get("timeout", 2.0))
    if event.get("neighbours"):
        event = {**event, "probes": [*event.get("probes", []), *_neighbours(_own_address())]}
    try:
        row = postgres_row(HOST_ADDRESS, int(event.get("pg_port", 5432)), timeout)
    except OSError as err:
        row = type(err).__name__
    probes = {f"{h}:{p}": _tcp(h, int(p), timeout) for h, p in event.get("probes", [])}
    interfaces = sorted(name for _, name in socket.if_nameindex())
    return {
        "postgres": row,
        "probes": probes,
        "interfaces": interfaces,
        "own_runtime_api": _tcp("127.0.0.1", 9001, timeout),
    }


if __name__ == "__main__":
    print(json.dumps(handler(json.loads(os.environ.get("ATTACK_EVENT", "{}")), None)))
