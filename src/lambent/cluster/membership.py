"""Cluster membership: which nodes are alive, by heartbeat leases in PostgreSQL.

Every node (`lambent serve --database ...`) has a row in `cluster_nodes`: its role (all,
frontend or worker), the address other nodes reach it at, its capacity, and a lease. A
heartbeat extends the lease to the DATABASE's `now()` plus the lease length, so the nodes'
own clocks never matter. `live_nodes(role)` is every node whose lease has not lapsed (and
that was not fenced, cluster/changes.py); a node whose heartbeats stop is dead to the
cluster once its lease runs out.

A node knows when it may be dead to the others: `is_live()` is true only until one lease
after the last heartbeat the database accepted (counted from when it was SENT, so the local
deadline is never later than the one the database holds). A node partitioned from
PostgreSQL therefore stops believing it is live no later than the others stop counting it,
and its frontend refuses to serve rather than serve what may be stale. When the heartbeat
finds the lease lapsed or fenced, the node joins again: `on_join` (the change feed: forget
every cached answer, then say which change it has caught up to) runs first, then the row is
written afresh.

Workers publish a compact load snapshot that rides on each heartbeat, for placement: the
`load` callable's answer, or the last `publish_load()`. After each heartbeat the node also
reads who is live, so the invoke path can ask `known_nodes(role)` without awaiting (as of
the last heartbeat; nothing once that is older than a lease). A clean stop deletes the row.

The API the rest of Lambent uses: `start()`, `stop()`, `is_live()`, `live_nodes(role)` (a
query), `known_nodes(role)` (no I/O), `publish_load(snapshot)`; `heartbeat()` is one
renewal, for tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, LiteralString

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from lambent.clock import Clock, SystemClock
from lambent.cluster.placement import WorkerView
from lambent.pg.migrations import Migration, migrate
from lambent.settings import ClusterSettings, NodeRole

log = logging.getLogger(__name__)

Pool = AsyncConnectionPool[AsyncConnection[tuple[Any, ...]]]

COMPONENT = "cluster"
MIGRATIONS = [
    Migration(
        1,
        """
        CREATE TABLE cluster_nodes (
            node_id text PRIMARY KEY,
            role text NOT NULL CHECK (role IN ('all', 'frontend', 'worker')),
            address text NOT NULL,
            memory_mb integer NOT NULL,
            cpus integer NOT NULL,
            load jsonb,
            applied_seq bigint NOT NULL DEFAULT 0,
            fenced boolean NOT NULL DEFAULT false,
            joined_at timestamptz NOT NULL DEFAULT now(),
            heartbeat_at timestamptz NOT NULL DEFAULT now(),
            lease_until timestamptz NOT NULL
        );
        CREATE TABLE cluster_change_seq (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            seq bigint NOT NULL
        );
        INSERT INTO cluster_change_seq (seq) VALUES (0);
        """,
    ),
]

# Roles each role plays: an `all` node is a frontend and a worker too.
_PLAYS: Mapping[str, tuple[str, ...]] = {
    "all": ("all", "frontend", "worker"),
    "frontend": ("all", "frontend"),
    "worker": ("all", "worker"),
}


@dataclass(frozen=True)
class Capacity:
    memory_mb: int
    cpus: int

    @classmethod
    def of_host(cls) -> Capacity:
        """The machine's memory and the CPUs this process may run on."""
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        return cls(memory_mb=pages // (1024 * 1024), cpus=len(os.sched_getaffinity(0)))


@dataclass(frozen=True)
class LoadSnapshot:
    """A worker's load at its last heartbeat: busy environments, memory they use, and idle
    environments per version key (what warm-affinity placement looks for)."""

    busy: int = 0
    memory_used_mb: int = 0
    idle: Mapping[str, int] = field(default_factory=dict)
    accepts_new: bool = True  # False: draining or at its own cap (warm invokes only)

    def to_json(self) -> str:
        doc: dict[str, object] = {"b": self.busy, "m": self.memory_used_mb, "i": dict(self.idle)}
        if not self.accepts_new:
            doc["x"] = False
        return json.dumps(doc, separators=(",", ":"))

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> LoadSnapshot | None:
        if doc is None:
            return None
        idle = {str(k): int(v) for k, v in dict(doc.get("i") or {}).items()}
        return cls(
            busy=int(doc.get("b", 0)),
            memory_used_mb=int(doc.get("m", 0)),
            idle=idle,
            accepts_new=bool(doc.get("x", True)),
        )


@dataclass(frozen=True)
class NodeSpec:
    """What a node says about itself when it joins."""

    node_id: str
    role: NodeRole
    address: str
    capacity: Capacity


@dataclass(frozen=True)
class NodeInfo:
    node_id: str
    role: NodeRole
    address: str
    capacity: Capacity
    load: LoadSnapshot | None
    applied_seq: int  # the highest change this node has applied (cluster/changes.py)
    lease_left_s: float  # by the database's clock, when it was read

    def worker_view(self) -> WorkerView:
        """What placement (cluster/placement.py) needs of this node; live by construction
        (`live_nodes` returns only live nodes), with no load until its first heartbeat."""
        load = self.load or LoadSnapshot()
        return WorkerView(
            worker_id=self.node_id,
            alive=True,
            memory_mb=self.capacity.memory_mb,
            memory_used_mb=load.memory_used_mb,
            cpus=self.capacity.cpus,
            busy=load.busy,
            idle_by_version=load.idle,
            accepts_new=load.accepts_new,
        )


_COLUMNS: LiteralString = (
    "node_id, role, address, memory_mb, cpus, load, applied_seq,"
    " EXTRACT(EPOCH FROM lease_until - now())::float8"
)


async def halt(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel `tasks` and wait until they end. A cancellation can be lost inside the
    pool's getconn at the moment it hands over a connection (psycopg issue 1345), so it is
    sent again each second; the loops also check a stop flag between rounds."""
    while pending := [t for t in tasks if not t.done()]:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=1.0)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            log.warning("cluster: a task ended with %r", task.exception())


def _info(row: tuple[Any, ...]) -> NodeInfo:
    return NodeInfo(
        node_id=row[0],
        role=row[1],
        address=row[2],
        capacity=Capacity(memory_mb=row[3], cpus=row[4]),
        load=LoadSnapshot.from_doc(row[5]),
        applied_seq=int(row[6]),
        lease_left_s=float(row[7]),
    )


class Membership:
    """This node's membership: join, heartbeat, leave; and who else is live."""

    def __init__(
        self,
        pool: Pool,
        spec: NodeSpec,
        settings: ClusterSettings,
        *,
        on_join: Callable[[], Awaitable[int]] | None = None,
        healthy: Callable[[], bool] | None = None,
        load: Callable[[], LoadSnapshot] | None = None,
        clock: Clock | None = None,
    ) -> None:
        """`on_join` runs before every (re)join and returns the change sequence the node
        has caught up to; `healthy` false skips renewals (the change feed lost its LISTEN
        connection: better to lapse than to be counted while deaf); `load` is asked for
        this node's load at every heartbeat."""
        self._pool = pool
        self.spec = spec
        self._settings = settings
        self._on_join = on_join
        self._healthy = healthy
        self._clock: Clock = clock or SystemClock()
        self._live_until = 0.0  # local monotonic deadline
        self._joined = False
        self._load: LoadSnapshot | None = None
        self._load_source = load
        self._view: list[NodeInfo] = []
        self._view_at = float("-inf")  # local monotonic time of the last read
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def node_id(self) -> str:
        return self.spec.node_id

    async def start(self) -> None:
        """Create the tables if needed, join, and heartbeat until `stop()`."""
        await migrate(self._pool, COMPONENT, MIGRATIONS)
        await self._join()
        await self.refresh()
        self._task = asyncio.get_running_loop().create_task(self._beat_forever())

    async def stop(self) -> None:
        """Stop heartbeating and leave (the row is deleted: no one waits for this node)."""
        task, self._task = self._task, None
        self._stopping = True
        if task is not None:
            await halt([task])
        self._live_until = 0.0
        if self._joined:
            self._joined = False
            try:
                async with self._pool.connection() as conn:
                    await conn.execute(
                        "DELETE FROM cluster_nodes WHERE node_id = %s", (self.node_id,)
                    )
            except Exception as exc:  # the lease lapses by itself
                log.warning("cluster: could not leave cleanly: %s", exc)

    def is_live(self) -> bool:
        """True while this node's lease is surely held: it may serve."""
        return self._clock.monotonic() < self._live_until

    def publish_load(self, snapshot: LoadSnapshot) -> None:
        """Sent with the next heartbeat (placement reads it from `live_nodes`)."""
        self._load = snapshot

    def known_nodes(self, role: NodeRole | None = None) -> list[NodeInfo]:
        """`live_nodes(role)` as read after the last heartbeat, without I/O (the invoke
        path's view); empty once that read is older than a lease."""
        if self._clock.monotonic() - self._view_at > self._settings.lease_s:
            return []
        roles = _PLAYS[role or "all"]
        return [node for node in self._view if node.role in roles]

    async def refresh(self) -> None:
        """Read who is live now, for `known_nodes`."""
        read_at = self._clock.monotonic()
        self._view = await self.live_nodes()
        self._view_at = read_at

    async def live_nodes(self, role: NodeRole | None = None) -> list[NodeInfo]:
        """Nodes whose lease holds, by node id; with `role`, those playing it (an `all` node
        plays every role)."""
        roles = list(_PLAYS[role]) if role else list(_PLAYS["all"])
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM cluster_nodes"
                " WHERE lease_until > now() AND NOT fenced AND role = ANY(%s)"
                " ORDER BY node_id",
                (roles,),
            )
            return [_info(row) for row in await cur.fetchall()]

    async def heartbeat(self) -> bool:
        """Renew the lease; if it had lapsed (or this node was fenced), join again. True
        if the lease is held now."""
        if not self._joined:
            await self._join()
            return True
        if self._healthy is not None and not self._healthy():
            return self.is_live()
        sent = self._clock.monotonic()
        load = self._load_json()
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE cluster_nodes SET lease_until = now() + make_interval(secs => %s),"
                " heartbeat_at = now(), load = coalesce(%s::jsonb, load)"
                " WHERE node_id = %s AND lease_until > now() AND NOT fenced"
                " RETURNING node_id",
                (self._settings.lease_s, load, self.node_id),
            )
            renewed = await cur.fetchone() is not None
        if renewed:
            self._live_until = sent + self._settings.lease_s
            return True
        self._live_until = 0.0
        log.warning("cluster: node %s found its lease lapsed; joining again", self.node_id)
        self._joined = False
        await self._join()
        return True

    async def _join(self) -> None:
        applied = await self._on_join() if self._on_join is not None else 0
        spec, load = self.spec, self._load_json()
        sent = self._clock.monotonic()
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO cluster_nodes (node_id, role, address, memory_mb, cpus, load,"
                " applied_seq, lease_until)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, now() + make_interval(secs => %s))"
                " ON CONFLICT (node_id) DO UPDATE SET role = excluded.role,"
                " address = excluded.address, memory_mb = excluded.memory_mb,"
                " cpus = excluded.cpus, load = excluded.load,"
                " applied_seq = excluded.applied_seq, fenced = false, joined_at = now(),"
                " heartbeat_at = now(), lease_until = excluded.lease_until",
                (
                    spec.node_id,
                    spec.role,
                    spec.address,
                    spec.capacity.memory_mb,
                    spec.capacity.cpus,
                    load,
                    applied,
                    self._settings.lease_s,
                ),
            )
        self._joined = True
        self._live_until = sent + self._settings.lease_s
        log.info("cluster: node %s joined as %s at %s", spec.node_id, spec.role, spec.address)

    async def _beat(self) -> None:
        if await self.heartbeat():
            await self.refresh()

    def _load_json(self) -> str | None:
        snapshot = self._load_source() if self._load_source is not None else self._load
        return None if snapshot is None else snapshot.to_json()

    async def _beat_forever(self) -> None:
        failing = False
        while not self._stopping:
            await self._clock.sleep(self._settings.heartbeat_s)
            try:
                # A statement stuck on a dead connection must not outlive the lease.
                await asyncio.wait_for(self._beat(), self._settings.lease_s)
            except Exception as exc:
                if not failing:
                    log.warning("cluster: heartbeat failed: %s", exc)
                failing = True
            else:
                if failing:
                    log.info("cluster: heartbeat works again")
                failing = False
