"""The server's listening sockets, bound before anything else starts.

`lambent serve` binds its port first: a port already in use is then one clear line and
an exit status, and nothing was made on the host (sandbox cgroups, veths, nft table) that
would have to be undone.
"""

from __future__ import annotations

import contextlib
import errno
import socket

BACKLOG = 1024


class ListenFailed(OSError):
    """The server cannot listen where it was told to (its message is for the operator)."""


def bind_listeners(
    host: str, port: int, *, reuse_port: bool = False, listen: bool = True
) -> list[socket.socket]:
    """Listening sockets for every address `host` resolves to, or ListenFailed.

    With `reuse_port`, several processes bind the same port (SO_REUSEPORT: the kernel
    spreads new connections over their listeners; `lambent serve --processes`); a process
    that binds with `listen=False` holds the port without receiving connections."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise ListenFailed(f"cannot listen on {host}:{port}: {err.strerror}") from err
    sockets: list[socket.socket] = []
    seen: set[tuple[int, object]] = set()
    try:
        for family, kind, proto, _, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as err:
                if err.errno == errno.EADDRINUSE:
                    raise ListenFailed(
                        f"port {port} on {host} is already in use "
                        "(another server? choose another with --port)",
                    ) from err
                raise ListenFailed(f"cannot listen on {host}:{port}: {err.strerror}") from err
            if listen:
                sock.listen(BACKLOG)
            sock.setblocking(False)
    except BaseException:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()
        raise
    return sockets
