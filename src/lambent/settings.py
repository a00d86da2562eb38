"""One typed settings object, built once by the CLI and passed to everything that needs it.

Nothing in Lambent reads the process environment at import time; a component that needs a
knob takes it from here, so tests build a Settings with exactly the values they want.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

AuthMode = Literal["sigv4", "open"]
SandboxKind = Literal["auto", "namespaces", "process"]
LogFormat = Literal["text", "json"]
# What a node does in a cluster (docs/CLUSTER.md): `all` is everything, the default.
NodeRole = Literal["all", "frontend", "worker"]


@dataclass(frozen=True)
class LimitSettings:
    """Account and function limits, with AWS's defaults."""

    account_concurrency: int = 1000
    unreserved_minimum: int = 100
    burst_per_function: int = 1000
    burst_window_s: float = 10.0
    code_size_zipped: int = 50 * 1024 * 1024
    code_size_unzipped: int = 250 * 1024 * 1024
    total_code_size: int = 75 * 1024 * 1024 * 1024
    sync_payload: int = 6 * 1024 * 1024
    async_payload: int = 1024 * 1024
    response_payload: int = 6 * 1024 * 1024


@dataclass(frozen=True)
class EnvironmentSettings:
    """How execution environments live and die."""

    keep_alive_s: float = 600.0
    max_lifetime_s: float = 4 * 3600.0
    init_timeout_s: float = 10.0
    shutdown_grace_s: float = 2.0
    # An idle environment is frozen after this long. Lambda freezes at once; a short delay
    # spares a busy function a freeze and a thaw per invocation (~0.4 ms of server time:
    # at 100 concurrent clients it is the difference between 1,800 and 2,200 invokes/s).
    # The price: code still running after its response gets up to this long more.
    freeze_after_s: float = 0.2
    sandbox: SandboxKind = "auto"
    # The runtime images (lambent.runtimes.images: interpreter, standard library and SDK
    # of each runtime, mounted at /var/lang). None: where `make install` builds them, next
    # to the interpreter running Lambent.
    runtime_images: Path | None = None
    # Pre-created network slots kept ready, as Lambda pre-creates its own.
    network_slots_ready: int = 8
    # Idle-environment reaper cadence.
    reap_interval_s: float = 5.0
    # Templates (a version's fork of its runtime's zygote, ~4.5 MB with its standby) are
    # kept for versions created or invoked within the keep-alive, at most this much memory
    # in total, least recently used out first (docs/ARCHITECTURE.md, "Templates").
    template_budget_mb: int = 256
    template_keep_alive_s: float = 300.0


@dataclass(frozen=True)
class AsyncSettings:
    """Async invocation: delays are AWS's, the base is configurable so tests run in seconds."""

    # AWS waits about 1 minute, then 2; `lambent serve --async-retry-base` scales that.
    retry_base_s: float = 60.0
    throttle_backoff_base_s: float = 1.0
    throttle_backoff_max_s: float = 300.0
    # Deliveries running at once, all functions together. Each function runs as many as
    # its free concurrency allows (reserved, or its share of the unreserved pool); this
    # only caps the total, and by default it is AWS's account concurrency.
    max_deliveries: int = 1000
    # A claimed event not settled in this long is handed out again (> the 900 s timeout).
    claim_timeout_s: float = 960.0
    # On PostgreSQL (a cluster): a node renews its claims every third of this; a node that
    # stops (dies) has its claims taken by the others this long after its last renewal.
    node_lease_s: float = 15.0
    # On shutdown, running deliveries get this long before they are cut off (and re-queued).
    stop_grace_s: float = 2.0


@dataclass(frozen=True)
class LogSettings:
    """Bounded log retention, so the data dir does not grow without limit."""

    default_retention_days: int = 30
    max_events_per_group: int = 200_000
    flush_interval_s: float = 0.05


@dataclass(frozen=True)
class OperatorLogSettings:
    """The server's own logs on stderr (not the functions' logs, which LogSettings bounds)."""

    level: str = "INFO"  # DEBUG | INFO | WARNING | ERROR
    format: LogFormat = "text"
    # One line per HTTP request on the API endpoint; off by default.
    access_log: bool = False


@dataclass(frozen=True)
class ClusterSettings:
    """Which part of the cluster this process is, and how it takes part (docs/CLUSTER.md).

    `all` is the single-process default: everything in one process, no internal traffic.
    A `frontend` serves the public API and runs no environments; a `worker` runs
    environments and serves only the signed internal invoke endpoint. Membership and the
    change feed are used only with a database (cluster/)."""

    # This node's name in the cluster; None: a uuid made once and kept in DATA/node-id
    # (node_id.py).
    node_id: str | None = None
    role: NodeRole = "all"
    # host:port where other nodes reach this one; None: the API's host and port (a
    # worker's: internal_host:internal_port).
    address: str | None = None
    # A node renews its lease every heartbeat; one whose lease lapses is dead to the cluster
    # (and knows it). A write waits at most one lease for every live frontend to apply it,
    # then fences the laggards and waits out their leases (cluster/changes.py).
    heartbeat_s: float = 1.0
    lease_s: float = 4.0
    # Frontend processes sharing the public port (SO_REUSEPORT), supervised by a parent.
    processes: int = 1
    # Which of a supervisor's --processes this one is (None: not supervised): its node id
    # is the data dir's with this index, so siblings never take back each other's claims.
    process_index: int | None = None
    # A worker's internal listener (host, port): frontends reach it there.
    internal_host: str = "127.0.0.1"
    internal_port: int = 0
    # The shared key internal requests are signed with (mode 600; cluster/secret.py).
    secret_file: Path | None = None
    # How long an internal request's signature stays valid (clock skew between hosts).
    signature_max_age_s: float = 30.0

    @property
    def internal_address(self) -> str:
        return self.address or f"{self.internal_host}:{self.internal_port}"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 9000
    auth: AuthMode = "sigv4"
    account_id: str = "000000000000"
    region: str = "us-east-1"
    allow_public_open: bool = False
    # The URL clients use to reach us; defaults to http://host:port.
    public_url: str | None = None
    # The key that seals secrets at rest (auth/sealing.py); None: DATA/master.key.
    master_key_file: Path | None = None
    # PostgreSQL (libpq URL): everything durable lives there instead of SQLite files in the
    # data dir (docs/CLUSTER.md). None: the embedded single-process default.
    database_url: str | None = None
    limits: LimitSettings = field(default_factory=LimitSettings)
    environments: EnvironmentSettings = field(default_factory=EnvironmentSettings)
    async_: AsyncSettings = field(default_factory=AsyncSettings)
    logs: LogSettings = field(default_factory=LogSettings)
    operator_log: OperatorLogSettings = field(default_factory=OperatorLogSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)

    @property
    def role(self) -> NodeRole:
        return self.cluster.role

    @property
    def endpoint(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host if self.host not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
