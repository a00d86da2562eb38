"""A small HTTP/1.1 client for internal traffic: keep-alive connections per worker.

Frontends call workers on every placed invoke, so a connection is reused (no handshake per
invoke) and the response is parsed with httptools, as the server parses requests. What
matters to the caller is *when* a call failed:

* `Unreachable`: nothing was sent (connection refused, no route): the caller may try
  another worker, the invocation did not start anywhere.
* `Lost`: the request went out and the connection died or timed out before an answer:
  the invocation may have run; the caller answers the client with a service error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import httptools

CONNECT_TIMEOUT_S = 2.0


class Unreachable(Exception):
    """No connection: nothing was sent."""


class Lost(Exception):
    """The request was sent; no answer came back (the peer died or timed out)."""


@dataclass(slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class _Reading:
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)
    name: bytes = b""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._reading = _Reading()
        self._done: asyncio.Future[Answer] | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment] # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._done is not None and not self._done.done():
            self._done.set_exception(Lost("the connection closed before the answer"))

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self._done is not None and not self._done.done():
                self._done.set_exception(Lost(f"malformed answer: {exc}"))
            self.close()

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._reading.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._reading.chunks.append(body)

    def on_message_complete(self) -> None:
        reading, self._reading = self._reading, _Reading()
        answer = Answer(self._parser.get_status_code(), reading.headers, b"".join(reading.chunks))
        if not self._parser.should_keep_alive():
            self.closed = True
            if self.transport is not None:
                self.transport.close()
        if self._done is not None and not self._done.done():
            self._done.set_result(answer)

    async def exchange(self, head: bytes, body: bytes, timeout: float) -> Answer:
        assert self.transport is not None
        self._done = asyncio.get_running_loop().create_future()
        self.transport.write(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            self.transport.write(body)
        try:
            return await asyncio.wait_for(self._done, timeout)
        except TimeoutError as exc:
            self.close()
            raise Lost(f"no answer within {timeout:.0f} s") from exc
        finally:
            self._done = None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class InternalClient:
    """Connections to each peer address ("host:port"), reused while they stay open."""

    def __init__(self, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self._idle: dict[str, list[_Connection]] = {}
        self._connect_timeout = connect_timeout_s

    async def _connect(self, address: str) -> _Connection:
        idle = self._idle.get(address)
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
        host, _, port = address.rpartition(":")
        loop = asyncio.get_running_loop()
        try:
            _, proto = await asyncio.wait_for(
                loop.create_connection(_Connection, host.strip("[]"), int(port)),
                self._connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            raise Unreachable(f"{address}: {exc}") from exc
        return proto

    async def request(
        self,
        address: str,
        method: str,
        path: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        timeout: float,
    ) -> Answer:
        """Raises Unreachable (nothing sent) or Lost (sent, no answer)."""
        conn = await self._connect(address)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {address}", f"Content-Length: {len(body)}"]
        lines.extend(f"{k}: {v}" for k, v in headers)
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            answer = await conn.exchange(head, body, timeout)
        except BaseException:
            conn.close()
            raise
        if not conn.closed:
            self._idle.setdefault(address, []).append(conn)
        return answer

    def forget(self, address: str) -> None:
        """Close the idle connections to a peer the caller has given up on."""
        for conn in self._idle.pop(address, []):
            conn.close()

    def close(self) -> None:
        for address in list(self._idle):
            self.forget(address)
        with contextlib.suppress(Exception):
            self._idle.clear()
