"""All execution environments of this worker: one pool per function version revision.

It listens to the control plane (a changed or deleted version retires its pools and its
template), reaps idle environments after the keep-alive, keeps the versions' templates
(templates.py) and builds each environment's variables from the function version.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from lambent.blobs.store import BlobStore
from lambent.clock import Clock
from lambent.environments import specs
from lambent.environments.environment import Environment, EnvironmentConfig
from lambent.environments.lifecycle import EnvState
from lambent.environments.pool import VersionPool
from lambent.environments.templates import TemplateCache
from lambent.functions.model import LATEST, FunctionVersion
from lambent.logs.sink import LogSink
from lambent.runtimes import environment as runtime_env
from lambent.sandbox.interface import Sandbox, Template, TemplateSpec
from lambent.settings import Settings

log = logging.getLogger(__name__)

CredentialsFor = Callable[[FunctionVersion, str], Awaitable[Mapping[str, str]]]


class EnvironmentManager:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        sandbox: Sandbox,
        blobs: BlobStore,
        sink: LogSink,
        credentials_for: CredentialsFor | None = None,
        before_create: Callable[[FunctionVersion], Awaitable[None]] | None = None,
        version_exists: Callable[[FunctionVersion], bool] | None = None,
        latest_version: Callable[[str, str], FunctionVersion | None] | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._sandbox = sandbox
        self._blobs = blobs
        self._sink = sink
        self._credentials_for = credentials_for
        # Checked before each new environment (the scaling limit); may raise a throttle.
        self._before_create = before_create
        self._version_exists = version_exists
        # Whether a pool's $LATEST is still current (function_changed).
        self._latest_version = latest_version
        self._pools: dict[str, VersionPool] = {}
        self._retired: list[VersionPool] = []
        env = settings.environments
        self.templates = TemplateCache(
            sandbox,
            clock,
            self.template_spec,
            budget_bytes=env.template_budget_mb * 1024 * 1024,
            keep_alive_s=env.template_keep_alive_s,
        )
        self._reaper: asyncio.Task[None] | None = None
        self._config = EnvironmentConfig(
            init_timeout_s=env.init_timeout_s,
            shutdown_grace_s=env.shutdown_grace_s,
            region=settings.region,
            freeze_after_s=env.freeze_after_s,
        )

    @property
    def sandbox(self) -> Sandbox:
        return self._sandbox

    async def start(self) -> None:
        await self._sandbox.start()
        self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    # -- leasing ---------------------------------------------------------------------------
    def pool(self, version: FunctionVersion) -> VersionPool:
        pool = self._pools.get(version.key)
        if pool is None:
            pool = VersionPool(version, self._new_environment, self._clock)
            self._pools[version.key] = pool
        return pool

    @contextlib.asynccontextmanager
    async def lease(self, version: FunctionVersion) -> AsyncIterator[tuple[Environment, bool]]:
        self.templates.touch(version)
        async with self.pool(version).lease() as leased:
            yield leased

    async def _new_environment(
        self, pool: VersionPool, *, provisioned: bool = False
    ) -> Environment:
        version = pool.version
        if self._before_create is not None and not provisioned:
            await self._before_create(version)
        # The template first: a version that cannot have one (a runtime this host lacks)
        # fails here with its domain error, before an environment exists.
        first = await self.templates.get(version, spawning=True)
        env_id = uuid.uuid4().hex
        day = dt.datetime.fromtimestamp(self._clock.time(), tz=dt.UTC).strftime("%Y/%m/%d")
        stream = f"{day}/[{version.version}]{env_id}"
        variables = dict(runtime_env.instance_environment(log_stream_name=stream))
        if provisioned:
            variables["AWS_LAMBDA_INITIALIZATION_TYPE"] = "provisioned-concurrency"
        if self._credentials_for is not None:
            variables.update(await self._credentials_for(version, env_id))
        env = Environment(
            env_id,
            version,
            self.templates.handle(version, first),
            config=self._config,
            clock=self._clock,
            sink=self._sink,
            variables=variables,
            log_stream=stream,
            on_available=pool.available,
            on_crash=pool.crashed,
        )
        env.provisioned = provisioned
        # Provisioned init may take as long as the function timeout or 130 s (AWS's rule).
        await env.start(max(130.0, float(version.timeout_s)) if provisioned else None)
        return env

    # -- provisioned concurrency -----------------------------------------------------------
    def provisioned_count(self, version: FunctionVersion) -> int:
        pool = self._pools.get(version.key)
        return len(pool.provisioned()) if pool is not None else 0

    async def provision(self, version: FunctionVersion) -> bool:
        """One more initialized environment for `version`; False when its init failed."""
        pool = self.pool(version)
        env = await self._new_environment(pool, provisioned=True)
        if env.state is not EnvState.IDLE:
            env.retire()
            return False
        env.prewarmed()
        pool.add_idle(env)
        env.freeze_idle()
        return True

    def set_provisioned_targets(self, wanted: dict[tuple[str, str, str], int]) -> None:
        for pool in self._pools.values():
            v = pool.version
            pool.unprovision(wanted.get((v.account_id, v.function_name, v.version), 0))

    async def template_for(self, version: FunctionVersion) -> Template:
        return await self.templates.get(version)

    async def prepare(self, version: FunctionVersion) -> None:
        """Called by the control plane once a created or updated function's code is
        extracted: start the template of its $LATEST, so the function turns Active (or its
        update Successful) only when an invoke finds it ready. A template that cannot start
        is only logged: the invoke meets the same error, in AWS's shape."""
        try:
            await self.templates.get(version)
        except Exception as exc:
            log.debug("no template ahead of time for %s: %s", version.function_arn, exc)
        await self.templates.settle_closes()

    def template_spec(self, version: FunctionVersion) -> TemplateSpec:
        images = self._settings.environments.runtime_images
        return specs.template_spec(version, self._blobs, images, self.functions_endpoint())

    def functions_endpoint(self) -> str:
        """Lambent's endpoint as functions reach it: through the sandbox's host address
        (169.254.100.1 in the namespaces sandbox, an address, so S3 clients address
        buckets by path), else where any local client reaches the server."""
        host = self._sandbox.host_address
        if host is None:
            return self._settings.endpoint
        return f"http://{host}:{self._settings.port}"

    # -- control plane events --------------------------------------------------------------
    def function_changed(self, account_id: str, function_name: str, version: str) -> None:
        """Pools and templates of a version whose code or configuration changed (its key
        did), or that was deleted, are retired. A change of State only keeps them."""

        def stale(v: FunctionVersion) -> bool:
            return (
                v.account_id == account_id
                and v.function_name == function_name
                and version in ("*", v.version)
                and (version == "*" or not self._current(v))
            )

        for key, pool in list(self._pools.items()):
            if stale(pool.version):
                self._retire_pool(key)
        self.templates.drop_where(stale)

    def _current(self, v: FunctionVersion) -> bool:
        """`v` is still what its qualifier names (same code and configuration)."""
        if v.version == LATEST:
            if self._latest_version is None:
                return False
            latest = self._latest_version(v.account_id, v.function_name)
            return latest is not None and latest.key == v.key
        # A published version's code and configuration never change: it is current while
        # it exists (its State may change, e.g. when its SnapStart snapshot is taken).
        return self._version_exists is not None and self._version_exists(v)

    def version_published(self, account_id: str, function_name: str, version: str) -> None:
        return None

    def _retire_pool(self, key: str) -> None:
        pool = self._pools.pop(key, None)
        if pool is not None:
            pool.retire()
            self._retired.append(pool)

    # -- housekeeping ----------------------------------------------------------------------
    async def _reap_forever(self) -> None:
        env = self._settings.environments
        while True:
            await self._clock.sleep(env.reap_interval_s)
            try:
                self.reap()
            except Exception:
                log.exception("reaping environments failed")

    def reap(self) -> int:
        """Idle environments past the keep-alive, empty pools, idle templates."""
        env = self._settings.environments
        self.templates.enforce()
        total = 0
        for key, pool in list(self._pools.items()):
            total += pool.reap(env.keep_alive_s, env.max_lifetime_s)
            idle_for = self._clock.monotonic() - pool.touched
            if pool.empty and not pool.retired and idle_for > env.keep_alive_s:
                self._retire_pool(key)
        self._retired = [p for p in self._retired if not p.empty]
        return total

    def templates_ready(self) -> list[str]:
        """Keys (account/function/version[/revision]) of the templates made and running."""
        return self.templates.keys()

    def load(self) -> tuple[int, int, dict[str, int]]:
        """What a worker reports at each heartbeat for placement (cluster/membership.py):
        busy environments, the memory they were given (MB), idle ones per version key."""
        busy = memory_mb = 0
        idle: dict[str, int] = {}
        for key, pool in self._pools.items():
            stats = pool.stats()
            busy += stats.busy
            memory_mb += stats.busy * pool.version.memory_mb
            if stats.idle:
                idle[key] = stats.idle
        return busy, memory_mb, idle

    def environments(self) -> list[Environment]:
        out: list[Environment] = []
        for pool in [*self._pools.values(), *self._retired]:
            out.extend(pool.environments())
        return out

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for key in list(self._pools):
            self._retire_pool(key)
        for pool in self._retired:
            await pool.closed()
        await self.templates.close()
        await self._sandbox.close()
