"""The host's end of a zygote's or a template's control socket, and of its output pipe."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from typing import Any

from lambent.guest.lambent_guest import wire

OUTPUT_LIMIT = 1 << 20
SEND_TIMEOUT_S = 2.0


class Control:
    """The SEQPACKET socket to a zygote or template: requests out, replies and exits in."""

    def __init__(
        self,
        sock: socket.socket,
        on_exit: Callable[[str, int], None],
        on_eof: Callable[[], None],
    ) -> None:
        self.sock = sock
        self.sock.setblocking(False)
        # The kernel stamps each message with the sender's pid, as the host sees it.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.template_pid: int | None = None
        self.replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.start: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._on_exit = on_exit
        self._on_eof = on_eof
        self.closed = False
        asyncio.get_running_loop().add_reader(sock.fileno(), self._readable)

    def _readable(self) -> None:
        while True:
            try:
                message, fds, pid = wire.recv_with_pid(self.sock)
            except BlockingIOError:
                return
            except OSError:
                message, fds, pid = None, [], None
            for fd in fds:
                os.close(fd)
            if message is None:
                self.shutdown()
                self._on_eof()
                return
            self._dispatch(message, pid)

    def _dispatch(self, message: dict[str, Any], pid: int | None) -> None:
        op = message.get("op")
        if op in ("ready", "failed"):
            if op == "ready":
                self.template_pid = pid
            if not self.start.done():
                self.start.set_result(message)
        elif op in ("spawned", "spawn_failed"):
            future = self.replies.pop(str(message["id"]), None)
            if future is not None and not future.done():
                future.set_result(message)
        elif op == "exited":
            self._on_exit(str(message["id"]), int(message["status"]))

    def peer_gone(self) -> bool:
        """The other end is closed, even if the loop has not read the EOF yet."""
        if self.closed:
            return True
        try:
            return self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        """Messages are small and the other side reads them at once; one that stopped
        reading must not stall the server's event loop for more than a moment."""
        self.sock.settimeout(SEND_TIMEOUT_S)
        try:
            wire.send(self.sock, message, fds)
        finally:
            self.sock.setblocking(False)

    def shutdown(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(self.sock.fileno())
        self.sock.close()
        error: dict[str, Any] = {"op": "failed", "error": "the process exited"}
        if not self.start.done():
            self.start.set_result(error)
        for future in self.replies.values():
            if not future.done():
                future.set_result({"op": "spawn_failed", "error": "template exited"})
        self.replies.clear()


class OutputPipe:
    """What a zygote or template prints while it starts (errors; SnapStart's init output),
    read on the loop until the other end closes it (it goes quiet once ready)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self.data = bytearray()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        os.set_blocking(fd, False)
        asyncio.get_running_loop().add_reader(fd, self._read)

    def _read(self) -> None:
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        if len(self.data) < OUTPUT_LIMIT:
            self.data += data[: OUTPUT_LIMIT - len(self.data)]

    def text(self) -> str:
        return self.data.decode(errors="replace").strip()

    def close(self) -> None:
        if self._fd < 0:
            return
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(self._fd)
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = -1
        if not self.done.done():
            self.done.set_result(None)
