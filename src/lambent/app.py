"""The all-in-one server: builds every component from Settings and runs them on one loop."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path

from lambent.api.dispatch import Dispatcher, ServiceHandlers
from lambent.api.model import Models
from lambent.async_invoke.service import AsyncInvocations
from lambent.auth.authenticator import Authenticator
from lambent.auth.credentials import (
    Credential,
    CredentialStore,
    write_config_file,
    write_credentials_file,
)
from lambent.blobs.store import BlobStore
from lambent.blocking import BlockingWork
from lambent.clock import Clock, SystemClock
from lambent.concurrency.admission import Admission
from lambent.concurrency.burst import BurstLimiter
from lambent.environments.manager import EnvironmentManager
from lambent.environments.provisioned import ProvisionedReconciler
from lambent.environments.snapstart import SnapStartCoordinator
from lambent.errors import ServiceError
from lambent.functions.catalog import StoreCatalog
from lambent.functions.model import LATEST, FunctionVersion
from lambent.functions.service import ControlPlane
from lambent.http.messages import Request, Response
from lambent.http.server import HttpServer
from lambent.iam.roles import Roles
from lambent.iam.sessions import SessionIssuer
from lambent.invoke.service import InvokeService
from lambent.logs.store import LogStore
from lambent.oplog.access import AccessLog
from lambent.s3.service import S3
from lambent.sandbox.select import choose as choose_sandbox
from lambent.settings import Settings
from lambent.store.sqlite import SqliteStore

log = logging.getLogger(__name__)


@dataclass
class StartupInfo:
    endpoint: str
    credentials_file: Path | None = None
    created_account: str | None = None
    notes: list[str] = field(default_factory=list)


class App:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        data = settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        self.store = SqliteStore(data / "state.db")
        # Hashing, zip checks, extraction and object bytes: never on the event loop.
        self.work = BlockingWork()
        self.blobs = BlobStore(data, max_unzipped=settings.limits.code_size_unzipped)
        self.s3 = S3(self.store, data / "s3", self.clock, self.work)
        self.credentials = CredentialStore(self.store, self.clock)
        self.authenticator = Authenticator(
            settings.auth, self.credentials, self.clock, settings.account_id
        )
        self.models = Models.load()
        self.catalog = StoreCatalog(self.store, settings, self.clock)
        self.logs = LogStore(data / "logs.db", settings.logs, self.clock)
        self.sessions = SessionIssuer(Roles(self.store, self.clock), self.credentials, self.clock)
        limits = settings.limits
        self.admission = Admission(
            limits.account_concurrency,
            self.catalog.reserved_concurrency,
            self.catalog.reserved_total,
        )
        self.burst = BurstLimiter(self.clock, limits.burst_per_function, limits.burst_window_s)
        self.sandbox = choose_sandbox(settings)
        self.environments = EnvironmentManager(
            settings,
            self.clock,
            self.sandbox,
            self.blobs,
            self.logs,
            credentials_for=self._execution_credentials,
            before_create=self._scaling_limit,
            version_exists=self._version_exists,
            latest_version=self._latest_version,
        )
        self.catalog.subscribe(self.environments)
        self.snapstart = SnapStartCoordinator(self.environments, self.catalog)
        self.catalog.subscribe(self.snapstart)
        self.provisioned = ProvisionedReconciler(self.environments, self.catalog, self.clock)
        self.invoker = InvokeService(
            settings, self.clock, self.catalog, self.environments, self.admission
        )
        self.async_invoke = AsyncInvocations(
            settings, self.clock, self.invoker, self.catalog, self.admission
        )
        self.access_log = AccessLog.from_settings(settings.operator_log)
        self.handlers: list[ServiceHandlers] = []
        self.control_plane: ControlPlane | None = None
        self._http: HttpServer | None = None
        self._stopping = asyncio.Event()

    async def _execution_credentials(self, version: FunctionVersion, env_id: str) -> dict[str, str]:
        """The execution role's temporary credentials, for the function's SDK."""
        lifetime = (
            self.settings.environments.max_lifetime_s + self.settings.environments.keep_alive_s
        )
        try:
            issued = await self.sessions.execution_credentials(
                version.role, version.function_name, valid_for_s=lifetime
            )
        except ServiceError as exc:
            log.warning("no credentials for %s: %s", version.function_arn, exc.message)
            return {}
        return issued.environment()

    def _version_exists(self, version: FunctionVersion) -> bool:
        """Asked by a catalog listener: `changed()` has loaded the version if it exists."""
        found = self.catalog.cached_version(
            version.account_id, version.function_name, version.version
        )
        return found is not None

    def _latest_version(self, account_id: str, function_name: str) -> FunctionVersion | None:
        """Asked by a catalog listener: `changed()` has loaded $LATEST."""
        return self.catalog.cached_version(account_id, function_name, LATEST)

    def _scaling_limit(self, version: FunctionVersion) -> None:
        reserved = self.catalog.reserved_concurrency(version.account_id, version.function_name)
        self.burst.take(version.account_id, version.function_name, reserved=reserved is not None)

    async def build_dispatcher(self) -> Dispatcher:
        from lambent.api.wiring import build_handlers, extra_routes

        self.handlers = await build_handlers(self)
        from lambent.ops import stats

        routes = {
            "/health": self._health,
            "/_lambent/stats": stats.handler(self),
            **extra_routes(self),
        }
        return Dispatcher(
            self.models,
            self.authenticator,
            self.handlers,
            default_region=self.settings.region,
            extra_routes=routes,
            access_log=self.access_log,
        )

    async def _health(self, req: Request) -> Response:
        return Response(200, b'{"status":"ok"}', [("Content-Type", "application/json")])

    async def bootstrap_accounts(self) -> StartupInfo:
        info = StartupInfo(endpoint=self.settings.endpoint)
        if self.settings.auth == "open":
            await self.credentials.ensure_account(self.settings.account_id)
            return info
        creds_file = self.settings.data_dir / "credentials"
        if not await self.credentials.accounts():
            account, cred = await self.credentials.create_account()
            info.created_account = account
            self._write_client_files(cred)
        elif not creds_file.exists():
            info.notes.append(f"{creds_file} is missing; the root keys are in the store")
        info.credentials_file = creds_file
        return info

    def _write_client_files(self, cred: Credential) -> None:
        data = self.settings.data_dir
        write_credentials_file(data / "credentials", cred)
        write_config_file(data / "config", self.settings.region, self.settings.endpoint)

    async def start(self, listeners: list[socket.socket] | None = None) -> StartupInfo:
        """Start every service, then serve on `listeners` (bound by the caller before
        anything started, see http/listen.py) or on a new listener."""
        info = await self.bootstrap_accounts()
        await self.catalog.start()
        await self.environments.start()
        await self.provisioned.start()
        info.notes.append(
            f"sandbox: {self.sandbox.name}"
            + ("" if self.sandbox.isolated else " (no isolation between functions)")
        )
        await self.async_invoke.start()
        dispatcher = await self.build_dispatcher()
        self._http = HttpServer(dispatcher)
        if listeners is None:
            await self._http.listen(self.settings.host, self.settings.port)
        for sock in listeners or ():
            await self._http.serve_socket(sock)
        return info

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self.access_log is not None:
            self.access_log.flush()
        await self.async_invoke.stop()
        await self.provisioned.close()
        await self.snapstart.close()
        await self.environments.close()
        if self.control_plane is not None:
            await self.control_plane.provisioner.close()
        self.work.close()
        self.logs.close()
        await self.store.close()
