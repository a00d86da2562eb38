"""The all-in-one server: the composition root that builds every component from Settings,
runs them on one loop, and closes each on stop."""

from __future__ import annotations

import contextlib
import logging
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lambent.api.dispatch import Dispatcher, ServiceHandlers
from lambent.api.model import Models
from lambent.async_invoke.queue import EventQueue
from lambent.async_invoke.service import AsyncInvocations
from lambent.auth import key_check, sealing
from lambent.auth.authenticator import Authenticator
from lambent.auth.credentials import (
    Credential,
    CredentialStore,
    write_config_file,
    write_credentials_file,
)
from lambent.blobs.store import BlobStore
from lambent.blocking import BlockingWork
from lambent.brokers.registry import Brokers
from lambent.client_files import publish_endpoint
from lambent.clock import Clock, SystemClock
from lambent.cluster import roles
from lambent.cluster.client import InternalClient
from lambent.cluster.remote import Workers
from lambent.cluster.worker_api import WorkerEndpoint
from lambent.code_signing.check import CodeCheck
from lambent.code_signing.configs import CodeSigningConfigs
from lambent.code_signing.profiles import SigningProfiles
from lambent.concurrency.admission import Admission
from lambent.concurrency.burst import BurstLimiter, ClusterBurst
from lambent.concurrency.tokens import ClusterTokens
from lambent.environments.manager import EnvironmentManager
from lambent.environments.provisioned import ProvisionedReconciler
from lambent.environments.snapstart import SnapStartCoordinator
from lambent.errors import ServiceError
from lambent.event_sources.pollers.invoking import ServiceInvoker
from lambent.event_sources.pollers.leases import MappingLeases
from lambent.event_sources.pollers.source import SourceFactory
from lambent.event_sources.pollers.supervisor import PollerSupervisor
from lambent.event_sources.sources import SourceKind
from lambent.events.service import EventBridge
from lambent.function_urls.service import FunctionUrlService, UrlPurger
from lambent.functions.catalog import StoreCatalog
from lambent.functions.code_url import CodeUrlSigner
from lambent.functions.lifecycle import Provisioner
from lambent.functions.model import LATEST, FunctionVersion
from lambent.functions.runtimes import SUPPORTED_RUNTIMES
from lambent.functions.service import ControlPlane, shas_of
from lambent.functions.uploads import ZipUploads
from lambent.http.messages import Request, Response
from lambent.http.server import HttpServer
from lambent.iam.roles import Roles
from lambent.iam.sessions import SessionIssuer
from lambent.invoke.service import InvokeService
from lambent.kinesis.service import Streams
from lambent.layers.repository import LayerRepository
from lambent.layers.service import LayerService
from lambent.logs.interface import LogStore
from lambent.logs.store import SqliteLogStore
from lambent.node_id import load_or_create as load_node_id
from lambent.oplog.access import AccessLog
from lambent.private_files import secure_data_dir
from lambent.s3.service import S3
from lambent.sandbox.interface import Sandbox
from lambent.sandbox.process import ProcessSandbox
from lambent.sandbox.select import choose as choose_sandbox
from lambent.schedules.firing import Firer
from lambent.schedules.service import Schedules
from lambent.schedules.targets import Targets
from lambent.secrets.service import Secrets
from lambent.settings import Settings
from lambent.sns.service import Notifications
from lambent.sqs.service import Queues
from lambent.store.interface import Doc, Store
from lambent.store.select import open_store

if TYPE_CHECKING:
    from lambent.blobs.postgres import PgBlobs
    from lambent.cluster.changes import ChangeFeed
    from lambent.cluster.membership import Membership
    from lambent.s3.notify.delivery import NotifyDispatcher

log = logging.getLogger(__name__)


@dataclass
class StartupInfo:
    endpoint: str
    credentials_file: Path | None = None
    created_account: str | None = None
    notes: list[str] = field(default_factory=list)


class App:
    """The composition root. `start()` builds every component once, in dependency order,
    and registers how to close each on one AsyncExitStack; `stop()` closes them in reverse
    (the HTTP server first, the store last). A start that fails part-way closes what it had
    opened before the error propagates."""

    # Built by start(); an App is not used before it.
    work: BlockingWork
    sealer: sealing.Sealer
    store: Store
    logs: LogStore
    blobs: BlobStore
    _shared_blobs: tuple[PgBlobs, PgBlobs] | None  # code, S3 bytes (with --database)
    s3: S3
    credentials: CredentialStore
    authenticator: Authenticator
    models: Models
    catalog: StoreCatalog
    roles: Roles
    sessions: SessionIssuer
    admission: Admission
    burst: BurstLimiter
    sandbox: Sandbox
    environments: EnvironmentManager
    snapstart: SnapStartCoordinator
    provisioned: ProvisionedReconciler
    invoker: InvokeService
    async_invoke: AsyncInvocations
    pollers: PollerSupervisor  # event source mappings' pollers (event_sources/pollers)
    control_plane: ControlPlane
    access_log: AccessLog | None
    urls: FunctionUrlService
    handlers: list[ServiceHandlers]
    # The queue service (SQS); None on a worker, which serves no public API.
    queues: Queues | None = None
    # EventBridge (events/); None on a worker.
    events: EventBridge | None = None
    # SNS topics and their fan-out; None on a worker.
    sns: Notifications | None = None
    # EventBridge Scheduler (schedules/); None on a worker. The firer runs where it is.
    schedules: Schedules | None = None
    firer: Firer | None = None
    # S3 notifications' dispatcher (s3/notify); None on a worker.
    s3_notify: NotifyDispatcher | None = None
    # The stream service (Kinesis); None on a worker, like the queues.
    streams: Streams | None = None
    secrets: Secrets
    brokers: Brokers
    # Cluster mode (docs/CLUSTER.md): the shared key and the client of internal traffic.
    cluster_key: bytes | None = None
    internal: InternalClient | None = None
    workers: Workers | None = None
    worker_endpoint: WorkerEndpoint | None = None

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.node_id = ""  # this server among the nodes on one database (node_id.py)
        self.clock: Clock = clock or SystemClock()
        self._stack: contextlib.AsyncExitStack | None = None
        self._tokens: ClusterTokens | None = None
        # With a database: this node's membership in the cluster (cluster/membership.py).
        self.membership: Membership | None = None
        self.changes: ChangeFeed | None = None
        self._cluster_burst: ClusterBurst | None = None

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self, listeners: list[socket.socket] | None = None) -> StartupInfo:
        """Start every service, then serve on `listeners` (bound by the caller before
        anything started, see http/listen.py) or on a new listener."""
        if self._stack is not None:
            raise RuntimeError("the app is already started")
        stack = contextlib.AsyncExitStack()
        try:
            info = await self._open(stack, listeners)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return info

    async def stop(self) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    async def _open(
        self, stack: contextlib.AsyncExitStack, listeners: list[socket.socket] | None
    ) -> StartupInfo:
        settings = self.settings
        data = settings.data_dir
        secure_data_dir(data)
        key_path = sealing.master_key_path(data, settings.master_key_file)
        self.sealer = sealing.load_or_create(key_path)
        self.cluster_key = roles.cluster_key(settings)
        # Hashing, zip checks, extraction and object bytes: never on the event loop.
        self.work = BlockingWork()
        stack.callback(self.work.close)
        # SQLite in the data dir, or PostgreSQL shared by every node (--database).
        self.store = await open_store(data, settings.database_url)
        stack.push_async_callback(self.store.close)
        await key_check.verify(self.store, self.sealer, key_path)
        self.logs = await self._open_log_store()
        stack.push_async_callback(self.logs.close)
        self.node_id = settings.cluster.node_id or load_node_id(data)
        if settings.cluster.process_index is not None:  # one of `--processes N`
            self.node_id += f"/{settings.cluster.process_index}"
        role = settings.role
        if settings.database_url is not None:  # frontends admit; workers count new envs
            await self._open_admission_ledger(stack, settings.database_url, role != "worker")
        # A worker runs no async scheduler: frontends deliver through placement.
        queue = await self._async_queue() if role != "worker" else None
        if role != "worker":
            self.queues = await self._open_queues()
            stack.push_async_callback(self.queues.close)
            self.schedules = await self._open_schedules()
            stack.push_async_callback(self.schedules.backend.close)
            self.streams = await self._open_streams()
            stack.push_async_callback(self.streams.close)
        self._shared_blobs = await self._open_shared_blobs(stack)
        self._build(queue)
        stack.push_async_callback(self.async_invoke.stop)  # its queue file is open already
        if role != "worker":
            self.events = self._build_events()
        if role == "worker":  # accounts and stored secrets are the frontends' business
            info = StartupInfo(endpoint=settings.endpoint)
        else:
            await self._seal_secrets_at_rest()
            info = await self.bootstrap_accounts()
            await self.sessions.purge_expired(force=True)  # keys that expired while down
        await self.catalog.start()
        if settings.database_url is not None:
            await self._join_cluster(stack, settings.database_url)
        await self._start_services(stack, info)
        await self._serve_http(stack, listeners, info)
        return info

    async def _start_services(self, stack: contextlib.AsyncExitStack, info: StartupInfo) -> None:
        """The data plane and the background services this role runs."""
        role = self.settings.role
        if role != "frontend":  # a frontend runs no environments: no sandbox on its host
            await self.environments.start()
        stack.push_async_callback(self.environments.close)
        stack.push_async_callback(self.snapstart.close)
        # Recovery prepares templates, so it runs on a started sandbox and stops before it.
        stack.push_async_callback(self.control_plane.provisioner.close)
        if role != "worker":  # the control plane is the frontends'
            await self.control_plane.provisioner.recover(shas_of)
        if role == "all":
            await self.provisioned.start()
            stack.push_async_callback(self.provisioned.close)
        if role != "frontend":
            info.notes.append(
                f"sandbox: {self.sandbox.name}"
                + ("" if self.sandbox.isolated else " (no isolation between functions)")
            )
        if role != "worker":  # async events run where invokes are placed from
            await self.async_invoke.start()
        if self.queues is not None:
            await self.queues.start()
        if self.events is not None:  # delivers through the async queue and SQS: after them
            await self.events.dispatcher.start()
            stack.push_async_callback(self.events.dispatcher.stop)
        if self.s3_notify is not None:  # S3 notifications left in the outbox go first
            self.s3_notify.start()
            stack.push_async_callback(self.s3_notify.stop)
        if role != "worker":  # mappings poll where invokes are placed from (leases: one node)
            await self.pollers.start()
            stack.push_async_callback(self.pollers.stop)  # before the queues close
        if self.schedules is not None:  # leases: one node fires each due time
            self.firer = Firer(
                self.schedules.backend,
                Targets(self.async_invoke, self.queues, self.sns),
                self.clock,
            )
            self.schedules.on_change(self.firer.notify)
            self.firer.start()
            stack.push_async_callback(self.firer.stop)  # before the schedules close

    async def _serve_http(
        self,
        stack: contextlib.AsyncExitStack,
        listeners: list[socket.socket] | None,
        info: StartupInfo,
    ) -> None:
        """The public API, or on a worker its internal endpoint only."""
        settings, role = self.settings, self.settings.role
        if self.access_log is not None:
            stack.callback(self.access_log.close)  # after the server: its last lines too
        if role == "worker":
            http = HttpServer(roles.worker_handler(self))
            info.notes.append(f"internal endpoint: {settings.cluster.internal_address}")
        else:
            http = HttpServer(self._dispatcher())
        stack.push_async_callback(http.close)
        if listeners is None:
            await http.listen(*roles.listen_address(settings))
        for sock in listeners or ():
            await http.serve_socket(sock)
        if role != "worker":  # where `lambent` and the aws CLI look
            publish_endpoint(settings.data_dir, settings.endpoint)

    async def _open_log_store(self) -> LogStore:
        """Function logs: in PostgreSQL with `--database`, so any frontend serves the Logs
        API for what any node wrote; else in their own SQLite file in the data dir."""
        settings = self.settings
        if settings.database_url is None:
            return SqliteLogStore(settings.data_dir / "logs.db", settings.logs, self.clock)
        from lambent.logs.pg.store import PgLogStore  # psycopg: cluster mode only

        return await PgLogStore.open(settings.database_url, settings.logs, self.clock)

    async def _async_queue(self) -> EventQueue | None:
        """The async queue shared by every node on PostgreSQL (`--database`); None: the
        SQLite file in the data dir, which AsyncInvocations opens itself."""
        url = self.settings.database_url
        if url is None:
            return None
        from lambent.async_invoke.postgres import PostgresQueue  # psycopg: cluster mode only

        return await PostgresQueue.open(
            url,
            node_id=self.node_id,
            clock=self.clock,
            node_lease_s=self.settings.async_.node_lease_s,
        )

    async def _open_schedules(self) -> Schedules:
        """EventBridge Scheduler's store: `DATA/schedules.db`, or with `--database` the
        `scheduler_*` tables every node shares."""
        url = self.settings.database_url
        if url is None:
            from lambent.schedules.sqlite import SqliteSchedules

            return Schedules(SqliteSchedules(self.settings.data_dir / "schedules.db"), self.clock)
        from lambent.schedules.postgres import PgSchedules

        return Schedules(await PgSchedules.open(url), self.clock)

    async def _open_queues(self) -> Queues:
        """The queue service: its SQLite file in the data dir, or with `--database` its
        PostgreSQL tables, shared by every node (wake-ups between nodes by NOTIFY)."""
        url = self.settings.database_url
        if url is None:
            from lambent.sqs.sqlite import SqliteQueues

            return Queues(SqliteQueues(self.settings.data_dir / "sqs.db"), self.clock)
        from lambent.sqs.postgres import PgQueues  # psycopg: cluster mode only

        backend = await PgQueues.open(url, node_id=self.node_id)
        return Queues(backend, self.clock, shared=True)

    async def _open_streams(self) -> Streams:
        """The stream service: its SQLite file in the data dir, or with `--database` its
        PostgreSQL tables, shared by every node."""
        url = self.settings.database_url
        if url is None:
            from lambent.kinesis.sqlite import SqliteStreams

            return Streams(SqliteStreams(self.settings.data_dir / "kinesis.db"), self.clock)
        from lambent.kinesis.postgres import PgStreams  # psycopg: cluster mode only

        return Streams(await PgStreams.open(url), self.clock)

    async def _join_cluster(self, stack: contextlib.AsyncExitStack, url: str) -> None:
        """Cluster mode: this node's membership, and the change feed that keeps its catalog
        as fresh as every other node's writes (cluster/changes.py). Joined before anything
        is served; left after the HTTP server closes. A frontend then places on the live
        workers it lists, a worker shows it its load (cluster/fleet.py)."""
        from lambent.cluster.changes import ChangeFeed  # psycopg: cluster mode only
        from lambent.cluster.membership import Capacity, LoadSnapshot, Membership, NodeSpec
        from lambent.pg.connect import open_pool

        cluster = self.settings.cluster
        # Heartbeats, acknowledgements and writers' waits: short statements, a few at once.
        pool = await open_pool(url, name="cluster", min_size=1, max_size=2)
        stack.push_async_callback(pool.close)
        feed = ChangeFeed(url, pool, self.catalog, cluster, self.node_id)
        stack.push_async_callback(feed.stop)
        await feed.start()
        self.changes = feed
        settings = self.settings
        address = (
            cluster.internal_address
            if settings.role == "worker"
            else cluster.address or f"{settings.host}:{settings.port}"
        )
        spec = NodeSpec(self.node_id, cluster.role, address, Capacity.of_host())

        def load() -> LoadSnapshot:
            busy, memory_mb, idle = self.environments.load()
            return LoadSnapshot(busy=busy, memory_used_mb=memory_mb, idle=idle)

        self.membership = Membership(
            pool,
            spec,
            cluster,
            on_join=feed.on_join,
            healthy=feed.connected,
            load=None if settings.role == "frontend" else load,  # a frontend runs none
            clock=self.clock,
        )
        await self.membership.start()
        stack.push_async_callback(self.membership.stop)
        self.catalog.attach_publisher(feed)
        await roles.take_part(self, self.membership, stack)

    async def _open_admission_ledger(
        self, stack: contextlib.AsyncExitStack, url: str, admits: bool
    ) -> None:
        """Cluster mode: limits hold across every node, on tokens leased from PostgreSQL
        (concurrency/tokens.py), and the scaling limit is one bucket per function there.
        A node that `admits` (a frontend, or all) holds tokens; a worker only creates
        environments, so it needs the buckets alone. Closed after the HTTP server, so
        nothing admits after."""
        from lambent.concurrency.pg_ledger import PgLedger  # psycopg: cluster mode only

        ledger = await PgLedger.open(url, listen=admits)
        stack.push_async_callback(ledger.close)
        limits = self.settings.limits
        self._cluster_burst = ClusterBurst(ledger, limits.burst_per_function, limits.burst_window_s)
        if not admits:
            return
        # Its own id per process: a restarted node's old holds lapse, never become its own.
        tokens = ClusterTokens(ledger, f"{self.node_id}.{uuid.uuid4().hex[:8]}", self.clock)
        await tokens.start()
        stack.push_async_callback(tokens.close)
        self._tokens = tokens

    def _build(self, queue: EventQueue | None = None) -> None:
        """Every component, each made once (constructors only: nothing here opens or starts
        anything that would need closing, except the async queue, closed by its stop)."""
        settings, clock, data = self.settings, self.clock, self.settings.data_dir
        code, objects = self._shared_blobs or (None, None)  # in PostgreSQL in a cluster
        self.blobs = BlobStore(data, max_unzipped=settings.limits.code_size_unzipped, shared=code)
        self.s3 = S3(self.store, data / "s3", clock, self.work, objects)
        self.credentials = CredentialStore(self.store, clock, self.sealer)
        self.secrets = Secrets(self.store, self.sealer, clock)
        self.brokers = Brokers(self.store, self.sealer, clock)
        self.authenticator = Authenticator(
            settings.auth, self.credentials, clock, settings.account_id
        )
        self.models = Models.load()
        self.catalog = StoreCatalog(self.store, settings, clock, self.sealer)
        # Open mode is the local-development mode moto-style suites run against; they create
        # roles with placeholder trust policies ("some policy") that IAM itself would reject.
        self.roles = Roles(self.store, clock, lenient_trust=settings.auth == "open")
        self.sessions = SessionIssuer(
            self.roles, self.credentials, clock, shared_execution_keys=settings.role == "worker"
        )
        limits = settings.limits
        self.admission = Admission(
            limits.account_concurrency,
            self.catalog.reserved_concurrency,
            self.catalog.reserved_total,
            self.catalog.provisioned_by_qualifier,
            tokens=self._tokens,
        )
        self.burst = BurstLimiter(clock, limits.burst_per_function, limits.burst_window_s)
        role = settings.role
        self.sandbox = (
            ProcessSandbox(data / "sandbox") if role == "frontend" else choose_sandbox(settings)
        )
        self.environments = EnvironmentManager(
            settings,
            clock,
            self.sandbox,
            self.blobs,
            self.logs,
            credentials_for=self._execution_credentials,
            before_create=self._scaling_limit,
            version_exists=self._version_exists,
            latest_version=self._latest_version,
        )
        self.catalog.subscribe(self.environments)
        self.snapstart = SnapStartCoordinator(
            self.environments, self.catalog, snapshot=role != "frontend"
        )
        self.catalog.subscribe(self.snapstart)
        self.provisioned = ProvisionedReconciler(self.environments, self.catalog, clock)
        if self.cluster_key is not None:
            self.internal = InternalClient()
        self.invoker = InvokeService(
            settings,
            clock,
            self.catalog,
            self.environments,
            self.admission,
            remote=roles.remote_runner(self) if role == "frontend" else None,
        )
        self.async_invoke = AsyncInvocations(
            settings, clock, self.invoker, self.catalog, self.admission, queue
        )
        if role != "worker":
            self.sns = self._notifications()
            from lambent.s3.notify.wiring import build_notifications

            self.s3_notify = build_notifications(self)[1]
        self.pollers = PollerSupervisor(
            self.store,
            self.source_factories(),
            ServiceInvoker(self.invoker, clock),
            MappingLeases(self.store, self.node_id, clock),
            clock,
        )
        self.access_log = AccessLog.from_settings(settings.operator_log)
        self.control_plane = self._control_plane()
        self.urls = FunctionUrlService(self.catalog, clock, settings.endpoint)
        self.catalog.subscribe(UrlPurger(self.urls))

    def _build_events(self) -> EventBridge:
        """EventBridge: its catalog and outbox in the store, delivering through the async
        queue (Lambda targets), the queue service (SQS) and its own outbox (buses)."""
        from lambent.events.wiring import build_events

        return build_events(self)

    def _notifications(self) -> Notifications:
        from lambent.sns.delivery import Delivery
        from lambent.sns.topics import TopicRepository

        delivery = Delivery(
            self.async_invoke.send_to_function, self.queues, self.catalog, self.settings.endpoint
        )
        from lambent.sns.destination import TopicTarget

        sns = Notifications(TopicRepository(self.store), delivery, self.clock)
        self.async_invoke.targets.register(TopicTarget(sns))  # destinations and DLQs
        return sns

    def source_factories(self) -> dict[SourceKind, SourceFactory]:
        """The event sources whose mappings poll (a kind without one is stored only)."""
        if self.queues is None:  # a worker polls nothing
            return {}
        from lambent.event_sources.pollers.sqs import sqs_factory

        factories = {SourceKind.SQS: sqs_factory(self.queues)}
        if self.streams is not None:
            from lambent.event_sources.pollers.kinesis import kinesis_factory

            factories[SourceKind.KINESIS] = kinesis_factory(self.streams, self._role_of)
        return factories

    async def _role_of(self, mapping: Doc) -> str:
        """The execution role of a mapping's function (the Kinesis event's invokeIdentityArn)."""
        parts = str(mapping.get("FunctionArn") or "").split(":")
        if len(parts) < 7:
            return ""
        fn = await self.catalog.function_doc(parts[4], parts[6])
        config = ((fn or {}).get("latest") or {}).get("config") or {}
        return str(config.get("Role") or "")

    async def _open_shared_blobs(
        self, stack: contextlib.AsyncExitStack
    ) -> tuple[PgBlobs, PgBlobs] | None:
        """With a database, code and S3 bytes in its blob tables (migrated now), reached
        through a blocking pool only the blocking work's threads use (blobs/postgres.py)."""
        url = self.settings.database_url
        if url is None:
            return None
        from lambent.blobs import postgres  # psycopg: cluster mode only

        await postgres.migrate_schema(url)
        pool = await self.work.run(postgres.open_blocking_pool, url)
        stack.callback(pool.close)
        return postgres.PgBlobs(pool, postgres.CODE), postgres.PgBlobs(pool, postgres.S3)

    def _control_plane(self) -> ControlPlane:
        uploads = ZipUploads(
            self.blobs, self.settings.limits.code_size_zipped, self.work, objects=self.s3
        )
        signer = CodeUrlSigner(self.sealer.derive("code-url"), self.clock, self.settings.endpoint)

        async def extract(sha: str) -> object:
            return await self.work.run(self.blobs.extracted, sha)

        # A function turns Active once its template is up (the data plane prepares it); on
        # a frontend, once its code is extracted (workers make templates at first use).
        prepare = roles.no_prepare if self.settings.role == "frontend" else None
        provisioner = Provisioner(
            self.catalog, extract, prepare=prepare or self.environments.prepare
        )
        self.catalog.attach_provisioner(provisioner)
        layers = LayerService(LayerRepository(self.store), uploads, signer, self.clock)
        code_check = CodeCheck(
            CodeSigningConfigs(self.catalog, self.clock), SigningProfiles(self.store), self.work
        )
        return ControlPlane(
            self.catalog, uploads, provisioner, layers, signer, SUPPORTED_RUNTIMES, code_check
        )

    def _dispatcher(self) -> Dispatcher:
        from lambent.api.wiring import build_handlers, extra_routes
        from lambent.ops import stats

        self.handlers = build_handlers(self)
        routes = {
            "/health": self._health,
            "/_lambent/stats": stats.handler(self),
            **extra_routes(self),
            **roles.frontend_routes(self),
        }
        return Dispatcher(
            self.models,
            self.authenticator,
            self.handlers,
            default_region=self.settings.region,
            extra_routes=routes,
            access_log=self.access_log,
            serving=None if self.membership is None else self.membership.is_live,
        )

    async def _health(self, req: Request) -> Response:
        return Response(200, b'{"status":"ok"}', [("Content-Type", "application/json")])

    # -- what the data plane asks the control plane ------------------------------------
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

    async def _scaling_limit(self, version: FunctionVersion) -> None:
        """Before a new environment: the function's scaling limit, in this process or (in
        cluster mode) across the cluster."""
        account, name = version.account_id, version.function_name
        reserved = self.catalog.reserved_concurrency(account, name) is not None
        if self._cluster_burst is not None:
            await self._cluster_burst.take(account, name, reserved=reserved)
        else:
            self.burst.take(account, name, reserved=reserved)

    async def _seal_secrets_at_rest(self) -> None:
        """Migrate a data dir from before sealing: seal plaintext secrets, drop stored
        signing keys, then checkpoint so the old pages leave the WAL and the file."""
        sealed = await self.credentials.seal_plaintext()
        dropped = await self.catalog.repo.drop_stored_secrets()
        environments = await self.catalog.repo.seal_environments()
        if sealed or dropped or environments:
            log.info(
                "sealed %d stored key(s) and %d function configuration(s), dropped %d stored "
                "signing key(s)",
                sealed,
                environments,
                dropped,
            )
            await self.store.checkpoint()

    # -- accounts ----------------------------------------------------------------------
    async def bootstrap_accounts(self) -> StartupInfo:
        info = StartupInfo(endpoint=self.settings.endpoint)
        if self.settings.auth == "open":
            await self.credentials.ensure_account(self.settings.account_id, default=True)
            return info
        creds_file = self.settings.data_dir / "credentials"
        created = None
        # One transaction: of nodes starting together on an empty database, one makes it.
        async with self.store.transaction():
            if not await self.credentials.accounts():
                created = await self.credentials.create_account(default=True)
        if created is not None:
            info.created_account, cred = created
            self._write_client_files(cred)
        elif not creds_file.exists():
            info.notes.append(f"{creds_file} is missing; the root keys are in the store")
        info.credentials_file = creds_file
        return info

    def _write_client_files(self, cred: Credential) -> None:
        data = self.settings.data_dir
        write_credentials_file(data / "credentials", cred)
        write_config_file(data / "config", self.settings.region, self.settings.endpoint)
