"""The loopback floor: the least a request/response over 127.0.0.1 costs on this machine now.

    python -m bench.loopback --port 9100

A separate process (as the server is) answering every HTTP/1.1 request with the same small
200 reply an Invoke of a no-op function returns, with no work between reading a request
and writing its reply. `bench.warm_invoke` measures it with the same client, in the same
run and in rounds alternating with the server: its tail is what the machine itself adds
(scheduling on busy cores, loopback TCP, the client), which no server can go below.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import cast

REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    b"X-Amz-Executed-Version: $LATEST\r\nx-amzn-RequestId: 00000000-0000-0000-0000-000000000000"
    b"\r\n\r\n{}"
)


class Floor(asyncio.Protocol):
    """Answers each complete request (head plus Content-Length body) with REPLY."""

    def __init__(self) -> None:
        self._buf = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self._buf += data
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self._buf[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self._buf) < end + 4 + length:
                return
            self._buf = self._buf[end + 4 + length :]
            assert self._transport is not None
            self._transport.write(REPLY)


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Floor, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


@contextlib.contextmanager
def running(port: int) -> Iterator[str]:
    """A floor server in its own process for the duration; yields its endpoint."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.loopback", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the loopback floor server did not start")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
