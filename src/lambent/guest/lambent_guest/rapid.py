"""A minimal HTTP/1.1 client for the Lambda Runtime API, tuned for the warm path.

One persistent keep-alive connection to AWS_LAMBDA_RUNTIME_API; requests are pre-rendered
bytes and responses are parsed straight off a buffered socket reader. `http.client` costs
tens of microseconds per request in header parsing alone (it runs the email parser), which
is most of the budget of a no-op invoke, so it is not used here.
"""

from __future__ import annotations

import contextlib
import socket

API_PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_MAX_LINE = 65536
_INLINE_BODY = 64 * 1024  # smaller bodies go out in the same send() as the head


class RuntimeApiError(Exception):
    """The Runtime API answered something the runtime cannot continue from."""


class HttpResponse:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body


class Invocation:
    """One event from GET /invocation/next and the headers that describe it."""

    __slots__ = (
        "body",
        "client_context",
        "cognito_identity",
        "content_type",
        "deadline_ms",
        "invoked_function_arn",
        "request_id",
        "trace_id",
    )

    def __init__(
        self,
        request_id: str,
        body: bytes,
        content_type: str | None,
        deadline_ms: int,
        invoked_function_arn: str | None,
        trace_id: str | None,
        client_context: str | None,
        cognito_identity: str | None,
    ) -> None:
        self.request_id = request_id
        self.body = body
        self.content_type = content_type
        self.deadline_ms = deadline_ms
        self.invoked_function_arn = invoked_function_arn
        self.trace_id = trace_id
        self.client_context = client_context
        self.cognito_identity = cognito_identity


class RuntimeApiClient:
    """Talks to one Runtime API endpoint ("host:port") over a reused TCP connection."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise RuntimeApiError(f"Invalid AWS_LAMBDA_RUNTIME_API: {address!r}")
        self.address = address
        self._target = (host.strip("[]"), int(port))
        self._host_header = f"Host: {address}\r\n".encode("latin-1")
        self._next_request = (
            f"GET {API_PREFIX}/invocation/next HTTP/1.1\r\n".encode("latin-1")
            + self._host_header
            + b"\r\n"
        )
        self._sock: socket.socket | None = None
        self._reader: _Reader | None = None
        self._reused = False

    def close(self) -> None:
        """Drop the connection (after a fork, the child must not share the parent's)."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = None
        self._reader = None
        self._reused = False

    def next_invocation(self) -> Invocation:
        """GET /invocation/next: blocks until Lambda has an event for this environment."""
        resp = self._roundtrip(self._next_request, b"")
        if resp.status != 200:
            raise RuntimeApiError(
                f"Request to Lambda Runtime 'next' endpoint failed. Reason: '{resp.status}'. "
                f"Response body: '{resp.body!r}'"
            )
        h = resp.headers
        request_id = h.get("lambda-runtime-aws-request-id")
        if not request_id:
            raise RuntimeApiError("invocation id is missing from the 'next' response")
        deadline = h.get("lambda-runtime-deadline-ms")
        return Invocation(
            request_id=request_id,
            body=resp.body,
            content_type=h.get("content-type"),
            deadline_ms=int(deadline) if deadline else 0,
            invoked_function_arn=h.get("lambda-runtime-invoked-function-arn"),
            trace_id=h.get("lambda-runtime-trace-id"),
            client_context=h.get("lambda-runtime-client-context"),
            cognito_identity=h.get("lambda-runtime-cognito-identity"),
        )

    def post_response(self, request_id: str, body: bytes, content_type: str) -> int:
        """POST /invocation/{id}/response; returns the status (202 unless refused)."""
        return self._post(f"{API_PREFIX}/invocation/{request_id}/response", body, content_type)

    def post_error(self, request_id: str, body: bytes, error_type: str) -> int:
        return self._post(
            f"{API_PREFIX}/invocation/{request_id}/error",
            body,
            "application/json",
            error_type,
        )

    def post_init_error(self, body: bytes, error_type: str) -> int:
        return self._post(f"{API_PREFIX}/init/error", body, "application/json", error_type)

    def _post(
        self, path: str, body: bytes, content_type: str, error_type: str | None = None
    ) -> int:
        head = (
            f"POST {path} HTTP/1.1\r\n".encode("latin-1")
            + self._host_header
            + f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n".encode("latin-1")
        )
        if error_type is not None:
            head += f"{ERROR_TYPE_HEADER}: {error_type}\r\n".encode("latin-1", "replace")
        return self._roundtrip(head + b"\r\n", body).status

    def _roundtrip(self, head: bytes, body: bytes) -> HttpResponse:
        """Send one request and read its response, reconnecting once on a stale connection."""
        for attempt in (0, 1):
            reused = self._reused
            try:
                reader = self._connected()
                sock = reader.sock
                if len(body) <= _INLINE_BODY:
                    sock.sendall(head + body if body else head)
                else:
                    sock.sendall(head)
                    sock.sendall(body)
                resp = reader.read_response()
            except (ConnectionError, _ClosedError, OSError) as exc:
                self.close()
                # A keep-alive connection the server dropped while idle: retry once on a
                # fresh one. A fresh connection failing is a real failure.
                if attempt == 0 and reused:
                    continue
                raise RuntimeApiError(f"Runtime API connection failed: {exc}") from exc
            self._reused = True
            if resp.headers.get("connection", "").lower() == "close":
                self.close()
            return resp
        raise AssertionError("unreachable")

    def _connected(self) -> _Reader:
        if self._reader is None:
            sock = socket.create_connection(self._target)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
            self._reader = _Reader(sock)
            self._reused = False
        return self._reader


class _ClosedError(Exception):
    """The server closed the connection before a complete response."""


class _Reader:
    """Parses HTTP/1.1 responses from a socket through one buffered file object."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._file = sock.makefile("rb", buffering=_MAX_LINE)

    def read_response(self) -> HttpResponse:
        readline = self._file.readline
        status_line = readline(_MAX_LINE)
        if not status_line:
            raise _ClosedError("connection closed")
        try:
            status = int(status_line.split(None, 2)[1])
        except (IndexError, ValueError):
            raise RuntimeApiError(f"bad status line {status_line!r}") from None
        headers: dict[str, str] = {}
        while True:
            line = readline(_MAX_LINE)
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise _ClosedError("connection closed in headers")
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        return HttpResponse(status, headers, self._read_body(headers))

    def _read_body(self, headers: dict[str, str]) -> bytes:
        length = headers.get("content-length")
        if length is not None:
            return self._read_exact(int(length))
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        return b""

    def _read_exact(self, n: int) -> bytes:
        data = self._file.read(n) if n else b""
        if len(data) != n:
            raise _ClosedError("connection closed in body")
        return data

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = self._file.readline(_MAX_LINE)
            if not size_line:
                raise _ClosedError("connection closed in chunked body")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while self._file.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self._read_exact(size))
            self._file.readline(_MAX_LINE)  # CRLF after each chunk
