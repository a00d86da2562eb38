"""CORS for a function URL from its `Cors` configuration (pure).

With CORS configured, Lambda answers preflight requests itself (no signature, no invoke)
and adds the CORS headers to every response to an allowed origin; where the function set
the same headers, the configuration wins. Without a configuration nothing is added and an
OPTIONS request goes to the function like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambent.function_urls.response import HttpAnswer

Cors = Mapping[str, Any]


def _listed(cors: Cors, member: str) -> list[str]:
    return [str(v) for v in cors.get(member) or []]


def _allowed(value: str, permitted: list[str]) -> bool:
    lowered = value.lower()
    return any(p == "*" or p.lower() == lowered for p in permitted)


def allow_origin(cors: Cors, origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for this origin, or None if it is not allowed.

    `*` is answered as `*`, except with credentials, which browsers only accept echoed."""
    if not origin:
        return None
    origins = _listed(cors, "AllowOrigins")
    if not _allowed(origin, origins):
        return None
    if "*" in origins and not cors.get("AllowCredentials") and origin not in origins:
        return "*"
    return origin


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    return (
        method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers
    )


def preflight(cors: Cors, headers: Mapping[str, str]) -> HttpAnswer:
    """The answer to a preflight: the allowances when origin, method and headers are
    allowed, a bare 200 (which the browser reads as a refusal) when they are not."""
    answer = HttpAnswer(200, b"")
    origin = allow_origin(cors, headers.get("origin"))
    method = headers.get("access-control-request-method", "")
    wanted = [h.strip() for h in headers.get("access-control-request-headers", "").split(",")]
    allowed_headers = _listed(cors, "AllowHeaders")
    if (
        origin is None
        or not _allowed(method, _listed(cors, "AllowMethods"))
        or not all(_allowed(h, allowed_headers) for h in wanted if h)
    ):
        return answer
    answer.headers.append(("Access-Control-Allow-Origin", origin))
    methods = _listed(cors, "AllowMethods")
    answer.headers.append(("Access-Control-Allow-Methods", ", ".join(methods)))
    if allowed_headers:
        answer.headers.append(("Access-Control-Allow-Headers", ", ".join(allowed_headers)))
    if cors.get("AllowCredentials"):
        answer.headers.append(("Access-Control-Allow-Credentials", "true"))
    if cors.get("MaxAge") is not None:
        answer.headers.append(("Access-Control-Max-Age", str(cors["MaxAge"])))
    answer.headers.append(("Vary", "Origin"))
    return answer


def decorate(cors: Cors, origin: str | None, answer: HttpAnswer) -> HttpAnswer:
    """Add the configured CORS headers to an actual response, replacing the function's."""
    allowed = allow_origin(cors, origin)
    if allowed is None:
        return answer
    added = [("Access-Control-Allow-Origin", allowed)]
    if cors.get("AllowCredentials"):
        added.append(("Access-Control-Allow-Credentials", "true"))
    expose = _listed(cors, "ExposeHeaders")
    if expose:
        added.append(("Access-Control-Expose-Headers", ", ".join(expose)))
    names = {k.lower() for k, _ in added}
    kept = [(k, v) for k, v in answer.headers if k.lower() not in names]
    if not any(k.lower() == "vary" for k, _ in kept):
        added.append(("Vary", "Origin"))
    answer.headers = kept + added
    return answer
