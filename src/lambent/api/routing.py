"""Routes for rest-json services, compiled from each operation's `http.requestUri`.

Nothing here is written by hand: every modelled operation gets a route, including the
ones Lambent does not implement, so an unimplemented call is answered by name.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from botocore.model import OperationModel, ServiceModel

_LABEL = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    query_literals: tuple[tuple[str, str | None], ...]
    operation: OperationModel
    specificity: tuple[int, int, int]
    # Required header and query members: they tell apart operations that share a method and
    # requestUri (S3's PutObject/CopyObject/UploadPart, GetObject/ListParts).
    required_headers: tuple[str, ...] = ()
    required_query: tuple[str, ...] = ()
    twin: bool = False

    def accepts(self, headers: dict[str, str] | None, query: dict[str, str]) -> bool:
        if not self.twin:
            return True
        if any(h not in (headers or {}) for h in self.required_headers):
            return False
        return all(q in query for q in self.required_query)


@dataclass(frozen=True)
class Match:
    operation: OperationModel
    path_params: dict[str, str]


def compile_route(op: OperationModel) -> Route:
    uri: str = op.http["requestUri"]
    path, _, query = uri.partition("?")
    regex = ["^"]
    labels: list[str] = []
    literal_chars = 0
    pos = 0
    for m in _LABEL.finditer(path):
        literal = path[pos : m.start()]
        literal_chars += len(literal)
        regex.append(re.escape(literal))
        labels.append(m.group(1))
        regex.append(
            f"(?P<g{len(labels) - 1}>.+)" if m.group(2) else f"(?P<g{len(labels) - 1}>[^/]+)"
        )
        pos = m.end()
    tail = path[pos:]
    literal_chars += len(tail)
    regex.append(re.escape(tail))
    regex.append("/?$" if not tail.endswith("/") else "$")
    literals: list[tuple[str, str | None]] = []
    for part in query.split("&") if query else []:
        key, eq, value = part.partition("=")
        literals.append((key, value if eq else None))
    headers, queries = _required_members(op)
    return Route(
        method=op.http["method"],
        pattern=re.compile("".join(regex)),
        labels=tuple(labels),
        query_literals=tuple(literals),
        operation=op,
        specificity=(len(literals), literal_chars, -len(labels)),
        required_headers=headers,
        required_query=queries,
    )


def _required_members(op: OperationModel) -> tuple[tuple[str, ...], tuple[str, ...]]:
    shape = op.input_shape
    if shape is None:
        return (), ()
    headers: list[str] = []
    queries: list[str] = []
    for name in shape.required_members:
        member = shape.members[name]
        wire = str(member.serialization.get("name", name))
        location = member.serialization.get("location")
        if location == "header":
            headers.append(wire.lower())
        elif location == "querystring":
            queries.append(wire)
    return tuple(headers), tuple(queries)


def _mark_twins(routes: list[Route]) -> list[Route]:
    """Routes sharing a method and requestUri are tried most-demanding first, the deprecated
    one of a pair last, and each only when its required headers and query members are sent."""
    seen: dict[tuple[str, str], int] = {}
    for route in routes:
        key = (route.method, route.operation.http["requestUri"])
        seen[key] = seen.get(key, 0) + 1
    out = [
        dataclasses.replace(route, twin=True)
        if seen[(route.method, route.operation.http["requestUri"])] > 1
        else route
        for route in routes
    ]
    out.sort(
        key=lambda r: (
            r.specificity,
            len(r.required_headers) + len(r.required_query) if r.twin else 0,
            not (r.twin and r.operation.deprecated),
        ),
        reverse=True,
    )
    return out


class Router:
    """Finds the operation for a method and raw path among one service's routes."""

    def __init__(self, service: ServiceModel) -> None:
        routes = [compile_route(service.operation_model(n)) for n in service.operation_names]
        routes = _mark_twins(routes)
        self._by_method: dict[str, list[Route]] = {}
        for route in routes:
            self._by_method.setdefault(route.method, []).append(route)
        # The first path segment (an API date) narrows the search a lot.
        self._prefix: dict[tuple[str, str], list[Route]] = {}
        for route in routes:
            first = route.operation.http["requestUri"].split("/")[1].split("?")[0]
            self._prefix.setdefault((route.method, first), []).append(route)

    def match(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: dict[str, str] | None = None,
    ) -> Match | None:
        first = raw_path.split("/")[1] if raw_path.count("/") >= 1 else ""
        candidates = self._prefix.get((method, first)) or self._by_method.get(method, [])
        query: dict[str, str] | None = None
        for route in candidates:
            m = route.pattern.match(raw_path)
            if m is None:
                continue
            if route.query_literals or route.twin:
                if query is None:
                    query = dict(parse_qsl(raw_query, keep_blank_values=True))
                if not all(
                    k in query and (v is None or query[k] == v) for k, v in route.query_literals
                ):
                    continue
                if not route.accepts(headers, query):
                    continue
            params = {name: unquote(m.group(f"g{i}")) for i, name in enumerate(route.labels)}
            return Match(route.operation, params)
        return None

    def allowed_path(self, raw_path: str) -> bool:
        """True when some operation has this path under another method (for 405-ish answers)."""
        return any(
            route.pattern.match(raw_path) for routes in self._by_method.values() for route in routes
        )
