"""Where a function URL lives and how a request names it.

AWS serves `https://<url-id>.lambda-url.<region>.on.aws/`. Lambent answers both of:

- host form: `http://<url-id>.lambda-url.<region>.localhost:PORT/...`, routed by `Host`.
  RFC 6761 reserves `*.localhost` for loopback; curl and browsers resolve it themselves,
  but glibc's resolver (Python, Node, most SDKs) does not on a stock Debian host.
- path form: `http://127.0.0.1:PORT/_lambent/url/<url-id>/...`, which every client can
  call. This is what the FunctionUrl field says, so the URL Lambda hands out always works.
"""

from __future__ import annotations

from dataclasses import dataclass

PATH_PREFIX = "/_lambent/url/"
HOST_MARKER = ".lambda-url."


def function_url(endpoint: str, url_id: str) -> str:
    return f"{endpoint.rstrip('/')}{PATH_PREFIX}{url_id}/"


def host_name(url_id: str, region: str) -> str:
    """The host-form name of a URL (what a client may send in `Host` instead)."""
    return f"{url_id}.lambda-url.{region}.localhost"


@dataclass(frozen=True)
class Addressed:
    """Which URL a request is for, and the path the function sees (AWS's rawPath)."""

    url_id: str
    region: str | None
    raw_path: str


def from_host(host: str, raw_path: str) -> Addressed | None:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    labels = name.lower().split(".")
    if len(labels) < 3 or labels[1] != "lambda-url" or not labels[0]:
        return None
    return Addressed(labels[0], labels[2], raw_path or "/")


def from_path(raw_path: str) -> Addressed | None:
    if not raw_path.startswith(PATH_PREFIX):
        return None
    url_id, slash, rest = raw_path[len(PATH_PREFIX) :].partition("/")
    if not url_id:
        return None
    return Addressed(url_id.lower(), None, slash + rest if slash else "/")
