"""All execution environments of this worker: one pool per function version revision.

It listens to the control plane (a changed or deleted version retires its pools), reaps
idle environments after the keep-alive, and builds each environment's template and
variables from the function version.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

from lambent.blobs.store import BlobStore
from lambent.clock import Clock
from lambent.environments.environment import Environment, EnvironmentConfig
from lambent.environments.lifecycle import EnvState
from lambent.environments.pool import VersionPool
from lambent.functions.model import LATEST, FunctionVersion
from lambent.logs.sink import LogSink
from lambent.runtimes import environment as runtime_env
from lambent.runtimes.registry import (
    RUNTIME_DIR,
    guest_dir,
    launch_for,
    node_sdk_dir,
    with_function_options,
)
from lambent.sandbox.interface import RuntimeLaunch, Sandbox, Template, TemplateSpec
from lambent.settings import Settings

log = logging.getLogger(__name__)

CredentialsFor = Callable[[FunctionVersion, str], Awaitable[Mapping[str, str]]]


@dataclass
class _Templates:
    """Templates are shared by every pool of the same version key, made once."""

    made: dict[str, Template]
    pending: dict[str, asyncio.Task[Template]]


class EnvironmentManager:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        sandbox: Sandbox,
        blobs: BlobStore,
        sink: LogSink,
        credentials_for: CredentialsFor | None = None,
        before_create: Callable[[FunctionVersion], None] | None = None,
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
        # To prepare the template of a function's new $LATEST before its first invoke.
        self._latest_version = latest_version
        self._prewarming: set[asyncio.Task[None]] = set()
        self._pools: dict[str, VersionPool] = {}
        self._retired: list[VersionPool] = []
        self._templates = _Templates({}, {})
        self._reaper: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        env = settings.environments
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
        async with self.pool(version).lease() as leased:
            yield leased

    async def _new_environment(
        self, pool: VersionPool, *, provisioned: bool = False
    ) -> Environment:
        version = pool.version
        if self._before_create is not None and not provisioned:
            self._before_create(version)
        template = await self._template(version)
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
            template,
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
        return await self._template(version)

    async def _template(self, version: FunctionVersion) -> Template:
        made = self._templates.made.get(version.key)
        if made is not None:
            return made
        task = self._templates.pending.get(version.key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._make_template(version))
            self._templates.pending[version.key] = task
        try:
            template = await asyncio.shield(task)
        finally:
            self._templates.pending.pop(version.key, None)
        self._templates.made[version.key] = template
        return template

    async def _make_template(self, version: FunctionVersion) -> Template:
        spec = await asyncio.to_thread(self.template_spec, version)
        return await self._sandbox.template(spec)

    def template_spec(self, version: FunctionVersion) -> TemplateSpec:
        launch = with_function_options(launch_for(version.runtime), version.environment)
        sdk = self._settings.environments.python_sdk_dir
        if launch.kind == "python" and sdk is not None:
            # Lambda's Python runtimes ship boto3; ours come from the SDK directory.
            launch = dataclasses.replace(launch, host_paths=(*launch.host_paths, str(sdk)))
        base = runtime_env.version_environment(
            launch=launch,
            function_name=version.function_name,
            version=version.version,
            memory_mb=version.memory_mb,
            handler=version.handler,
            region=version.region,
            log_group=version.log_group or None,
            function_variables=version.environment,
            initialization_type="snap-start" if version.snapstart else "on-demand",
            log_format=version.log_format,
            application_log_level=version.application_log_level,
        )
        if launch.kind == "python" and sdk is not None:
            base["PYTHONPATH"] = f"{base.get('PYTHONPATH', '')}:{sdk}".lstrip(":")
        if launch.kind == "node":
            launch = _with_node_sdk(launch, base)
        return TemplateSpec(
            key=version.key,
            account_id=version.account_id,
            function_name=version.function_name,
            version=version.version,
            launch=launch,
            handler=version.handler,
            code_dir=self._blobs.extracted(version.code_sha256_hex),
            layer_dirs=tuple(self._blobs.extracted(ly.code_sha256_hex) for ly in version.layers),
            guest_dir=guest_dir(),
            network="none" if version.network == "none" else "egress",
            snapstart=version.snapstart,
            memory_mb=version.memory_mb,
            ephemeral_mb=version.ephemeral_mb,
            base_env=base,
        )

    # -- control plane events --------------------------------------------------------------
    def function_changed(self, account_id: str, function_name: str, version: str) -> None:
        for key, pool in list(self._pools.items()):
            v = pool.version
            if (
                v.account_id == account_id
                and v.function_name == function_name
                and version in ("*", v.version)
                and not self._only_state_changed(v, version)
            ):
                self._retire_pool(key)
        if version == LATEST:
            self._prewarm(account_id, function_name)

    def _prewarm(self, account_id: str, function_name: str) -> None:
        """A created or updated function gets its template now, not at its first invoke,
        so that invoke pays a fork (milliseconds) instead of a template start."""
        if self._latest_version is None:
            return
        version = self._latest_version(account_id, function_name)
        if version is None or version.state != "Active":
            return
        self.pool(version)  # an empty pool keeps the template for the keep-alive
        task = asyncio.get_running_loop().create_task(self._prewarm_template(version))
        self._prewarming.add(task)
        task.add_done_callback(self._prewarming.discard)

    async def _prewarm_template(self, version: FunctionVersion) -> None:
        try:
            await self._template(version)
        except Exception as exc:  # the first invoke will meet the same error, in AWS's shape
            log.info("no template ahead of time for %s: %s", version.function_arn, exc)

    def _only_state_changed(self, v: FunctionVersion, version: str) -> bool:
        """A published version changes only its State (its code and config are frozen):
        keep its pool and template (the SnapStart snapshot) unless it was deleted."""
        if version == "*" or v.version == LATEST or self._version_exists is None:
            return False
        return self._version_exists(v)

    def version_published(self, account_id: str, function_name: str, version: str) -> None:
        return None

    def _retire_pool(self, key: str) -> None:
        pool = self._pools.pop(key, None)
        if pool is not None:
            pool.retire()
            self._retired.append(pool)
        template = self._templates.made.pop(key, None)
        if template is not None:
            task = asyncio.get_running_loop().create_task(self._close_template(pool, template))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _close_template(self, pool: VersionPool | None, template: Template) -> None:
        if pool is not None:
            await pool.closed()
        await template.close()

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
        env = self._settings.environments
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
        return sorted(self._templates.made)

    def environments(self) -> list[Environment]:
        out: list[Environment] = []
        for pool in [*self._pools.values(), *self._retired]:
            out.extend(pool.environments())
        return out

    async def close(self) -> None:
        for task in list(self._prewarming):
            task.cancel()
        if self._prewarming:
            await asyncio.gather(*self._prewarming, return_exceptions=True)
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for key in list(self._pools):
            self._retire_pool(key)
        for pool in self._retired:
            await pool.closed()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        for template in list(self._templates.made.values()):
            await template.close()
        self._templates.made.clear()
        await self._sandbox.close()


def _with_node_sdk(launch: RuntimeLaunch, base: dict[str, str]) -> RuntimeLaunch:
    """Lambda's Node runtimes ship the AWS SDK for JavaScript v3 in
    /var/runtime/node_modules (on NODE_PATH); ours comes from the runtime's image."""
    sdk = node_sdk_dir(launch.name)
    if not sdk.is_dir():
        return launch
    if "NODE_PATH" in base:
        base["NODE_PATH"] = base["NODE_PATH"].replace(f"{RUNTIME_DIR}/node_modules", str(sdk))
    return dataclasses.replace(launch, host_paths=(*launch.host_paths, str(sdk)))
