"""What each role adds to the App (app.py stays the one composition root; this is the
part of it that only cluster mode needs).

* `frontend`: invokes run on workers (`remote_runner`), code is served to workers by
  sha256 (`frontend_routes`), no template is made ahead (`no_prepare`).
* `worker`: the internal listener serves the signed invoke endpoint and a signed stats
  view (`worker_handler`), nothing of the public API.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Collection
from typing import TYPE_CHECKING

from lambent.cluster import secret, wire
from lambent.cluster.fleet import Members, WorkerFleet
from lambent.cluster.remote import RemoteRunner, Ticket, Workers
from lambent.cluster.worker_api import CodeFetcher, WorkerEndpoint, forbidden, frontend_fetcher
from lambent.functions.model import FunctionVersion
from lambent.http.messages import Handler, Request, Response
from lambent.settings import Settings

if TYPE_CHECKING:
    from lambent.app import App

__all__ = ["Workers", "cluster_key", "frontend_routes", "remote_runner", "worker_handler"]

STATS_PATH = "/_lambent/stats"


def cluster_key(settings: Settings) -> bytes | None:
    """The shared key of internal traffic (None in the single-process role)."""
    path = settings.cluster.secret_file
    if settings.role == "all" or path is None:
        return None
    return secret.load(path)


def listen_address(settings: Settings) -> tuple[str, int]:
    """Where this process serves: a worker on its internal listener only."""
    if settings.role == "worker":
        return settings.cluster.internal_host, settings.cluster.internal_port
    return settings.host, settings.port


async def no_prepare(version: FunctionVersion) -> None:
    """A frontend makes no template ahead of time: the worker that first runs a version
    makes it (its first invoke pays the template start, ~10 ms more)."""
    return None


class _AppWorkers:
    """The App's current view of the workers (membership, once started), asked late so
    the runner can be built before the membership exists."""

    def __init__(self, app: App) -> None:
        self._app = app

    def choose(self, version: FunctionVersion, exclude: Collection[str]) -> Ticket | None:
        workers = self._app.workers
        return None if workers is None else workers.choose(version, exclude)

    def failed(self, address: str) -> None:
        if self._app.workers is not None:
            self._app.workers.failed(address)


async def take_part(app: App, members: Members, stack: contextlib.AsyncExitStack) -> None:
    """Once this node is a member, a frontend follows the live workers (a worker's load
    rides on its heartbeats: membership asks its environment manager)."""
    cluster = app.settings.cluster
    if cluster.role == "frontend":
        fleet = WorkerFleet(members, app.clock, cluster.heartbeat_s, 2 * cluster.lease_s)
        await fleet.start()
        stack.push_async_callback(fleet.close)
        app.workers = fleet


def remote_runner(app: App) -> RemoteRunner:
    assert app.internal is not None and app.cluster_key is not None
    return RemoteRunner(
        _AppWorkers(app),
        app.internal,
        app.cluster_key,
        app.clock,
        app.settings.environments.init_timeout_s,
    )


def _signed(key: bytes, app: App, req: Request) -> str | None:
    return secret.verify(
        key,
        req.method,
        req.raw_path,
        req.body,
        req.headers,
        app.clock.time(),
        app.settings.cluster.signature_max_age_s,
    )


def frontend_routes(app: App) -> dict[str, Handler]:
    """A frontend hands a worker the code it lacks (signed requests only)."""
    key = app.cluster_key
    if app.settings.role != "frontend" or key is None:
        return {}

    async def blob(req: Request) -> Response:
        why = _signed(key, app, req)
        if why is not None:
            return forbidden(why)
        sha = req.raw_path[len(wire.BLOBS_PREFIX) :]
        if len(sha) != 64 or not all(c in "0123456789abcdef" for c in sha):
            return Response(404, b'{"message":"no such code"}')
        if not await app.work.run(app.blobs.exists, sha):
            return Response(404, b'{"message":"no such code"}')
        data = await app.work.run(app.blobs.read, sha)
        return Response(200, data, [("Content-Type", "application/zip")])

    return {wire.BLOBS_PREFIX: blob}


def worker_handler(app: App) -> Handler:
    """The internal listener: the invoke endpoint, and the stats view for the operator
    (signed too: environments of other workers on this host reach its loopback port)."""
    from lambent.ops import stats

    key = app.cluster_key
    assert key is not None and app.internal is not None
    settings = app.settings
    frontend = settings.endpoint.removeprefix("http://")  # the frontend its functions call
    code = CodeFetcher(
        app.blobs, app.work, frontend_fetcher(app.internal, key, frontend, app.clock)
    )
    endpoint = WorkerEndpoint(
        key,
        app.clock,
        settings.cluster.signature_max_age_s,
        app.catalog,
        app.environments,
        code,
        settings.cluster.internal_address,
    )
    app.worker_endpoint = endpoint
    view = stats.handler(app)

    async def handle(req: Request) -> Response:
        if req.raw_path != STATS_PATH:
            return await endpoint(req)
        why = _signed(key, app, req)
        if why is not None:
            return forbidden(why)
        answer: Response = await view(req)
        if answer.status == 200:
            doc = json.loads(answer.body)
            doc["worker"] = {"address": endpoint.name, "invocations": endpoint.invocations}
            answer.body = json.dumps(doc).encode()
        return answer

    return handle
