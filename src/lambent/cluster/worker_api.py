"""The worker's internal endpoint: run an invocation a frontend placed here.

A worker serves nothing else (not the public API): a request must carry the cluster
signature (secret.py), or it gets 403. The frontend has already resolved the function,
checked its state and taken the admission lease; the worker loads the same version from
the shared store (cached, so a warm invoke reads no database), makes sure its code is on
this host, leases an environment and runs it. A version whose code or configuration is not
the one the frontend resolved (one side's cache is stale) is reloaded once; if they still
differ, the frontend is told to resolve again (`superseded`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable

from lambent.blobs.store import BlobStore
from lambent.blocking import BlockingWork
from lambent.clock import Clock
from lambent.cluster import secret, wire
from lambent.cluster.client import InternalClient, Lost, Unreachable
from lambent.environments.manager import EnvironmentManager
from lambent.environments.pool import PoolRetired
from lambent.errors import InternalFailure, ServiceError
from lambent.functions.catalog import StoreCatalog
from lambent.functions.model import FunctionVersion
from lambent.http.messages import Request, Response

log = logging.getLogger(__name__)
JSON = [("Content-Type", "application/json")]


def forbidden(why: str) -> Response:
    return Response(403, json.dumps({"message": why}).encode(), list(JSON))


class CodeFetcher:
    """Puts a version's code and layers in this worker's blob store, extracted: from the
    shared blob store when it has them, else from a frontend (the internal blobs route)."""

    def __init__(
        self,
        blobs: BlobStore,
        work: BlockingWork,
        fetch: Callable[[str], Awaitable[bytes]],
    ) -> None:
        self._blobs = blobs
        self._work = work
        self._fetch = fetch
        self._ready: set[str] = set()
        self._pending: dict[str, asyncio.Future[None]] = {}

    async def ensure(self, version: FunctionVersion) -> None:
        for sha in (version.code_sha256_hex, *(ly.code_sha256_hex for ly in version.layers)):
            if sha not in self._ready:
                await self._one(sha)

    async def _one(self, sha: str) -> None:
        pending = self._pending.get(sha)
        if pending is not None:
            return await asyncio.shield(pending)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending[sha] = done
        try:
            if not await self._work.run(self._blobs.exists, sha):
                data = await self._fetch(sha)
                if hashlib.sha256(data).hexdigest() != sha:
                    raise InternalFailure(f"code {sha} arrived damaged")
                await self._work.run(self._blobs.put, data)
            await self._work.run(self._blobs.extracted, sha)
            self._ready.add(sha)
            done.set_result(None)
        except BaseException as exc:
            done.set_exception(exc)
            done.exception()  # retrieved: a failure is raised to each waiter, not logged
            raise
        finally:
            del self._pending[sha]


def frontend_fetcher(
    client: InternalClient, key: bytes, frontend: str, clock: Clock
) -> Callable[[str], Awaitable[bytes]]:
    """Code by sha256 from a frontend's blob store (`frontend` is its host:port)."""

    async def fetch(sha: str) -> bytes:
        path = wire.BLOBS_PREFIX + sha
        headers = secret.sign(key, "GET", path, b"", clock.time())
        try:
            answer = await client.request(frontend, "GET", path, headers, b"", timeout=60.0)
        except (Unreachable, Lost) as exc:
            raise InternalFailure(f"cannot fetch code {sha}: {exc}") from exc
        if answer.status != 200:
            raise InternalFailure(f"cannot fetch code {sha}: HTTP {answer.status}")
        return answer.body

    return fetch


class WorkerEndpoint:
    """The handler of a worker's internal listener."""

    def __init__(
        self,
        key: bytes,
        clock: Clock,
        max_age_s: float,
        catalog: StoreCatalog,
        environments: EnvironmentManager,
        code: CodeFetcher,
        name: str,
    ) -> None:
        self._key = key
        self._clock = clock
        self._max_age = max_age_s
        self._catalog = catalog
        self._environments = environments
        self._code = code
        self.name = name
        self.invocations = 0  # run here, for /_lambent/stats and tests

    async def __call__(self, req: Request) -> Response:
        why = secret.verify(
            self._key,
            req.method,
            req.raw_path,
            req.body,
            req.headers,
            self._clock.time(),
            self._max_age,
        )
        if why is not None:
            return forbidden(why)
        if req.raw_path != wire.INVOKE_PATH or req.method != "POST":
            return Response(404, b'{"message":"not found"}', list(JSON))
        try:
            target, invocation = wire.parse_request(req.headers, req.body)
        except (KeyError, ValueError):
            return Response(400, b'{"message":"malformed internal invoke"}', list(JSON))
        try:
            version = await self._version(target)
            await self._code.ensure(version)
            async with self._environments.lease(version) as (env, _created):
                self.invocations += 1
                result = await env.run(invocation)
        except (PoolRetired, ServiceError) as exc:
            return Response(409, wire.error_body(exc), list(JSON))
        except Exception as exc:
            log.exception("internal invoke %s failed", invocation.request_id)
            return Response(500, wire.error_body(exc), list(JSON))
        headers = wire.result_headers(result)
        headers.append((wire.H_WORKER, self.name))
        return Response(200, result.payload, headers)

    async def _version(self, target: wire.Target) -> FunctionVersion:
        version = await self._catalog.version(
            target.account_id, target.function_name, target.version
        )
        if version.key == target.key:
            return version
        self._catalog.invalidate(target.account_id, target.function_name)
        version = await self._catalog.version(
            target.account_id, target.function_name, target.version
        )
        if version.key != target.key:
            raise PoolRetired()
        return version
