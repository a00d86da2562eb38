"""Framing between the host, a zygote and its children: one JSON object per SEQPACKET
message, file descriptors riding along as SCM_RIGHTS. Shared by host and guest (stdlib only).
"""

from __future__ import annotations

import array
import contextlib
import json
import socket
from typing import Any

MAX_MESSAGE = 1 << 20
MAX_FDS = 32


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    data = json.dumps(message, separators=(",", ":")).encode()
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.sendall(data)


def recv(sock: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    """One message and its fds; (None, []) at EOF."""
    data, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, MAX_FDS)
    if not data:
        for fd in fds:
            _close(fd)
        return None, []
    return json.loads(data), list(fds)


def recv_with_pid(sock: socket.socket) -> tuple[dict[str, Any] | None, list[int], int | None]:
    """Like recv, plus the sender's pid as the kernel reports it (needs SO_PASSCRED)."""
    fds = array.array("i")
    cred_size = array.array("i", [0, 0, 0]).itemsize * 3
    data, ancdata, _flags, _addr = sock.recvmsg(
        MAX_MESSAGE, socket.CMSG_SPACE(MAX_FDS * fds.itemsize) + socket.CMSG_SPACE(cred_size)
    )
    pid: int | None = None
    for level, kind, payload in ancdata:
        if level != socket.SOL_SOCKET:
            continue
        if kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
        elif kind == socket.SCM_CREDENTIALS:
            pid = array.array("i", payload[:cred_size])[0]
    if not data:
        for fd in fds:
            _close(fd)
        return None, [], pid
    return json.loads(data), list(fds), pid


def _close(fd: int) -> None:
    import os

    with contextlib.suppress(OSError):
        os.close(fd)
