"""A small HTTP/1.1 server on asyncio and httptools.

Why not a framework: the invoke hot path crosses this code three times per invocation (the
client's request, the runtime's `/next`, the runtime's `/response`), so it must do almost
nothing: no routing tables, no middleware, bytes in and bytes out. It serves both the public
API and every environment's Runtime API socket.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import socket
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import cast

import httptools

from lambent.http.messages import REASONS, Handler, Request, Response

log = logging.getLogger(__name__)

# Answers at once (a Response), later (a Future), or defers to the async handler (None).
FastHandler = Callable[[Request], "Response | asyncio.Future[Response] | None"]

DEFAULT_MAX_BODY = 96 * 1024 * 1024

_date_cache: tuple[int, bytes] = (0, b"")


def http_date() -> bytes:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]


class _Pending:
    __slots__ = ("body", "headers", "method", "trailers", "url")

    def __init__(self) -> None:
        self.url = b""
        self.headers: dict[str, str] = {}
        self.trailers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.method = "GET"


class HttpProtocol(asyncio.Protocol):
    """One connection. Requests are answered in order; a pipelined request waits its turn."""

    def __init__(
        self,
        handler: Handler,
        *,
        max_body: int,
        too_large: Callable[[], Response] | None,
        cancel_on_disconnect: bool,
        on_connection: Callable[[HttpProtocol, bool], None] | None,
        fast: FastHandler | None = None,
    ) -> None:
        self._handler = handler
        self._fast = fast
        self._max_body = max_body
        self._too_large = too_large
        self._cancel_on_disconnect = cancel_on_disconnect
        self._on_connection = on_connection
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._cur = _Pending()
        self._in_headers = True
        self._body_size = 0
        self._queue: collections.deque[tuple[Request, bool]] = collections.deque()
        self._task: asyncio.Task[None] | None = None
        self._pending: asyncio.Future[Response] | None = None
        self._busy = False
        self._closed = False
        self._peer: tuple[str, int] | None = None
        self._pending_header: tuple[bytes, bytes] | None = None

    # asyncio callbacks -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; they quack the same.
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self._peer = (str(peer[0]), int(peer[1]))
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._on_connection:
            self._on_connection(self, True)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._on_connection:
            self._on_connection(self, False)
        if self._cancel_on_disconnect and self._task is not None and not self._task.done():
            self._task.cancel()
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reply_and_close(400, b"upgrade not supported")
        except httptools.HttpParserError:
            self._reply_and_close(400, b"malformed HTTP request")
        except _BodyTooLarge:
            resp = self._too_large() if self._too_large else Response(413, b"too large")
            self._write(resp, keep_alive=False)
            self._close()

    # httptools callbacks -----------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._cur = _Pending()
        self._in_headers = True
        self._body_size = 0

    def on_url(self, url: bytes) -> None:
        self._cur.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        val = value.decode("latin-1")
        target = self._cur.headers if self._in_headers else self._cur.trailers
        if key in target:
            target[key] = f"{target[key]}, {val}"
        else:
            target[key] = val

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._cur.method = self._parser.get_method().decode()
        length = self._cur.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._max_body:
            raise _BodyTooLarge()
        if self._cur.headers.get("expect", "").lower() == "100-continue" and self._transport:
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self._max_body:
            raise _BodyTooLarge()
        self._cur.body.append(body)

    def on_message_complete(self) -> None:
        cur = self._cur
        url = cur.url.decode("latin-1")
        path, _, query = url.partition("?")
        body = cur.body[0] if len(cur.body) == 1 else b"".join(cur.body)
        req = Request(
            method=cur.method,
            raw_path=path,
            raw_query=query,
            headers=cur.headers,
            body=body,
            trailers=cur.trailers,
            peer=self._peer,
            disconnected=self._is_closed,
        )
        self._queue.append((req, self._parser.should_keep_alive()))
        if not self._busy:
            self._pump()

    # internals ---------------------------------------------------------------------------
    def _is_closed(self) -> bool:
        return self._closed

    def _pump(self) -> None:
        """Answer queued requests in order. The fast handler answers without a task."""
        while self._queue and not self._closed and not self._busy:
            req, keep_alive = self._queue.popleft()
            if self._fast is not None:
                result = self._fast(req)
                if isinstance(result, Response):
                    self._respond(result, keep_alive)
                    continue
                if result is not None:
                    self._busy = True
                    self._pending = result
                    result.add_done_callback(functools.partial(self._settled, keep_alive))
                    return
            self._busy = True
            self._task = asyncio.get_running_loop().create_task(self._serve(req, keep_alive))

    def _settled(self, keep_alive: bool, fut: asyncio.Future[Response]) -> None:
        self._busy = False
        self._pending = None
        if fut.cancelled() or self._closed:
            return
        exc = fut.exception()
        if exc is not None:
            log.error("unhandled error in a deferred response", exc_info=exc)
            self._respond(_internal_error(), keep_alive)
        else:
            self._respond(fut.result(), keep_alive)
        self._pump()

    async def _serve(self, req: Request, keep_alive: bool) -> None:
        try:
            resp = await self._handler(req)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("unhandled error serving %s %s", req.method, req.raw_path)
            resp = _internal_error()
        if self._is_closed():  # the client may have gone while we worked
            return
        if resp.stream is not None:
            await self._write_stream(resp, keep_alive)
            if not keep_alive:
                self._close()
        else:
            self._respond(resp, keep_alive)
        self._busy = False
        self._pump()

    def _respond(self, resp: Response, keep_alive: bool) -> None:
        self._write(resp, keep_alive)
        if not keep_alive:
            self._close()

    def _head(self, resp: Response, keep_alive: bool, length: int | None) -> list[bytes]:
        reason = REASONS.get(resp.status, "Unknown")
        parts = [f"HTTP/1.1 {resp.status} {reason}\r\n".encode(), b"Date: ", http_date(), b"\r\n"]
        for k, v in resp.headers:
            parts.append(f"{k}: {v}\r\n".encode("latin-1"))
        if length is None:
            parts.append(b"Transfer-Encoding: chunked\r\n")
        else:
            parts.append(b"Content-Length: %d\r\n" % length)
        if not keep_alive:
            parts.append(b"Connection: close\r\n")
        parts.append(b"\r\n")
        return parts

    def _write(self, resp: Response, keep_alive: bool) -> None:
        if self._transport is None or self._closed:
            return
        length = len(resp.body) if resp.content_length is None else resp.content_length
        parts = self._head(resp, keep_alive, length)
        if resp.body:
            parts.append(resp.body)
        self._transport.write(b"".join(parts))

    async def _write_stream(self, resp: Response, keep_alive: bool) -> None:
        assert resp.stream is not None and self._transport is not None
        self._transport.write(b"".join(self._head(resp, keep_alive, None)))
        async for chunk in resp.stream:
            if self._closed:
                return
            if chunk:
                self._transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if not self._closed:
            self._transport.write(b"0\r\n\r\n")

    def _reply_and_close(self, status: int, text: bytes) -> None:
        self._write(Response(status, text, [("Content-Type", "text/plain")]), keep_alive=False)
        self._close()

    def _close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()
        self._closed = True

    def close(self) -> None:
        self._close()


class _BodyTooLarge(Exception):
    pass


def _internal_error() -> Response:
    return Response(
        500,
        b'{"Type":"Service","message":"Internal error"}',
        [("Content-Type", "application/json")],
    )


class HttpServer:
    """Serves `handler` on one or more listening sockets (TCP or pre-bound)."""

    def __init__(
        self,
        handler: Handler,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        too_large: Callable[[], Response] | None = None,
        cancel_on_disconnect: bool = False,
        fast: FastHandler | None = None,
    ) -> None:
        self._handler = handler
        self._fast = fast
        self._max_body = max_body
        self._too_large = too_large
        self._cancel = cancel_on_disconnect
        self._servers: list[asyncio.Server] = []
        self._connections: set[HttpProtocol] = set()

    def _track(self, proto: HttpProtocol, opened: bool) -> None:
        if opened:
            self._connections.add(proto)
        else:
            self._connections.discard(proto)

    def _factory(self) -> HttpProtocol:
        return HttpProtocol(
            self._handler,
            max_body=self._max_body,
            too_large=self._too_large,
            cancel_on_disconnect=self._cancel,
            on_connection=self._track,
            fast=self._fast,
        )

    async def listen(self, host: str, port: int) -> list[tuple[str, int]]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(self._factory, host, port, reuse_address=True)
        self._servers.append(server)
        return [s.getsockname()[:2] for s in server.sockets]

    async def serve_socket(self, sock: socket.socket) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(self._factory, sock=sock)
        self._servers.append(server)
        return server

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def close_connections(self) -> None:
        for conn in list(self._connections):
            conn.close()

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        self.close_connections()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self._servers.clear()
