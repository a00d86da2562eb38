"""Request and response values passed between the HTTP server and handlers.

Bodies stay `bytes` from socket to handler and back, so an invoke payload is never decoded
or re-encoded on its way through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote


@dataclass(slots=True)
class Request:
    method: str
    raw_path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes
    trailers: dict[str, str] = field(default_factory=dict)
    peer: tuple[str, int] | None = None
    # Set by the connection so a long poll can notice its client went away.
    disconnected: Callable[[], bool] | None = None

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.raw_query, keep_blank_values=True)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # When set, the body is sent with chunked encoding as the iterator yields.
    stream: AsyncIterator[bytes] | None = None
    # The Content-Length to announce instead of len(body): a HEAD answer states the size of
    # what a GET would send but sends no body.
    content_length: int | None = None

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return None


Handler = Callable[[Request], Awaitable[Response]]

REASONS: dict[int, str] = {
    100: "Continue",
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    206: "Partial Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
