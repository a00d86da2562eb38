"""The change feed: every node's function cache follows every other node's writes.

Each control-plane write calls `StoreCatalog.changed()` (or `published()`) after it commits.
With a database, the catalog then calls `ChangeFeed.publish()`, which:

1. takes the next number of the cluster's change sequence and NOTIFYs the change (account,
   function, version) with it, in one statement. The sequence is a counter row, not a
   PostgreSQL SEQUENCE: its row lock is held until the NOTIFY commits, so sequence order is
   commit order is delivery order, with no gaps, and "applied up to N" means every change
   numbered up to N;
2. waits until every LIVE node that serves the API (role `all` or `frontend`) has recorded
   in its membership row that it applied the change (`applied_seq` >= N), or is dead.

Every node LISTENs (on its own connection, outside the pool) and applies each change with
`StoreCatalog.apply_remote()`, in sequence order, then records the highest number applied
and NOTIFYs an acknowledgement that wakes the writers waiting for it.

The guarantee. When a write's `changed()` returns (so before UpdateFunctionCode, or any
other write, answers), every frontend that may still serve has dropped what it had cached
of that function: a request it serves afterwards reads the new version. Precisely: a node
that has not applied change N when the writer returns believes itself dead (its
`Membership.is_live()` is false, and its frontend refuses to serve), because either

- its lease had lapsed: it renews its lease only while its LISTEN connection is up, and its
  own deadline is never later than the database's (cluster/membership.py); or
- the writer fenced it: a live node that has not acknowledged within one lease length is
  marked fenced, so it can no longer renew, and the writer then waits for its current lease
  to run out. The writer's wait is therefore at most two lease lengths, and milliseconds
  when every node is healthy.

A node that lapsed, was fenced, or whose LISTEN connection broke (a PostgreSQL restart) may
have missed notifications: on reconnecting and on joining again it forgets its whole cache
(`StoreCatalog.invalidate_all()`) after it is listening again, then records the sequence
number it read before forgetting as applied. A writer whose NOTIFY fails (the database went
away after the write committed) keeps retrying it in the background: the other nodes catch
up when it gets through, or on their own reconnect, which the same outage causes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg import AsyncConnection, sql

from lambent.cluster.membership import Pool, halt
from lambent.settings import ClusterSettings

log = logging.getLogger(__name__)

# A LISTEN connection that dropped is made again after this long (then up to 1 s).
_RECONNECT_S = 0.1
_RECONNECT_MAX_S = 1.0
# The writer re-checks its laggards at least this often even if no acknowledgement arrives.
_RECHECK_S = 0.5
# Changes applied before one acknowledgement, at most.
_BATCH = 64


@dataclass(frozen=True)
class Change:
    seq: int
    node: str  # the writer
    account: str
    name: str
    version: str | None
    published: bool

    def payload_tail(self) -> str:
        """The payload without its sequence number, which the database prefixes."""
        doc: dict[str, object] = {"n": self.node, "a": self.account, "f": self.name}
        doc["v"] = self.version
        if self.published:
            doc["p"] = True
        return json.dumps(doc, separators=(",", ":"))

    @classmethod
    def parse(cls, payload: str) -> Change:
        seq, tail = payload.split(" ", 1)
        doc = json.loads(tail)
        return cls(
            seq=int(seq),
            node=str(doc["n"]),
            account=str(doc["a"]),
            name=str(doc["f"]),
            version=None if doc.get("v") is None else str(doc["v"]),
            published=bool(doc.get("p", False)),
        )


def channels(schema: str) -> tuple[str, str]:
    """The changes and acknowledgements channels of the cluster in `schema`. NOTIFY is
    per database, not per schema: two clusters (or two tests) on one database each get
    their own channels."""
    tag = hashlib.sha256(schema.encode()).hexdigest()[:16]
    return f"lambent_changes_{tag}", f"lambent_acks_{tag}"


class RemoteCatalog(Protocol):
    async def apply_remote(
        self, account: str, name: str, version: str | None, *, published: bool
    ) -> None: ...

    async def invalidate_all(self) -> None: ...


class _Reset:
    """The LISTEN connection was made again: changes may have been missed."""


class ChangeFeed:
    def __init__(
        self,
        url: str,
        pool: Pool,
        catalog: RemoteCatalog,
        settings: ClusterSettings,
        node_id: str,
    ) -> None:
        self._url = url
        self._pool = pool
        self._catalog = catalog
        self._settings = settings
        self.node_id = node_id
        self._changes_channel = self._acks_channel = ""
        self._queue: asyncio.Queue[Change | _Reset] = asyncio.Queue()
        self._applied = 0  # the highest change applied here
        self._acked = 0  # the highest recorded in the membership row
        self._acks: asyncio.Future[None] | None = None
        self._connected = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.resets = 0  # times the whole cache was forgotten (operators, tests)
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self, timeout_s: float = 10.0) -> None:
        """Listen (before anything is served, so no change is missed from here on)."""
        async with self._pool.connection() as conn:
            cur = await conn.execute("SELECT current_schema()")
            row = await cur.fetchone()
        self._changes_channel, self._acks_channel = channels(str(row[0] if row else ""))
        self._spawn(self._listen_forever())
        self._spawn(self._apply_forever())
        await asyncio.wait_for(self._connected.wait(), timeout_s)

    async def stop(self) -> None:
        tasks, self._tasks = list(self._tasks), set()
        self._stopping = True
        await halt(tasks)
        self._connected.clear()

    def stats(self) -> dict[str, object]:
        """For the operator's stats page."""
        return {
            "listening": self.connected(),
            "applied_seq": self._applied,
            "acknowledged_seq": self._acked,
            "cache_resets": self.resets,
        }

    def connected(self) -> bool:
        """Listening now: the node may renew its lease (Membership's `healthy`)."""
        return self._connected.is_set()

    async def on_join(self) -> int:
        """Before the node (re)joins: forget everything cached and say which change that
        catches up to (Membership's `on_join`)."""
        await asyncio.wait_for(self._connected.wait(), self._settings.lease_s)
        return await self._reset()

    # -- writing -----------------------------------------------------------------------
    async def publish(
        self, account: str, name: str, version: str | None, *, published: bool
    ) -> None:
        """Tell every node of a committed write (applied here already) and wait until the
        live frontends have applied it (the module's guarantee)."""
        change = Change(0, self.node_id, account, name, version, published)
        try:
            seq = await self._notify(change)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            log.warning("cluster: change of %s/%s not announced yet: %s", account, name, exc)
            self._spawn(self._notify_eventually(change))
            raise
        await self.wait_applied(seq)

    async def _notify(self, change: Change) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "WITH s AS (UPDATE cluster_change_seq SET seq = seq + 1 RETURNING seq)"
                " SELECT s.seq, pg_notify(%s, s.seq::text || ' ' || %s) FROM s",
                (self._changes_channel, change.payload_tail()),
            )
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def _notify_eventually(self, change: Change) -> None:
        delay = _RECONNECT_S
        while not self._stopping:
            await asyncio.sleep(delay)
            try:
                await self._notify(change)
                return
            except (psycopg.Error, OSError, TimeoutError):
                delay = min(delay * 2, _RECONNECT_MAX_S)

    async def wait_applied(self, seq: int) -> None:
        """Until every live frontend other than this node has applied `seq`; one that has
        not within a lease is fenced, then waited for until its lease runs out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.lease_s
        fenced = False
        while True:
            woken = self._next_ack()
            laggards = await self._laggards(seq)
            if not laggards:
                return
            if not fenced and loop.time() >= deadline:
                await self._fence([node for node, _ in laggards], seq)
                fenced = True
                continue
            # Woken by an acknowledgement, else when a laggard's lease lapses, else soon.
            timeout = min(_RECHECK_S, min(left for _, left in laggards) + 0.01)
            if not fenced:
                timeout = min(timeout, deadline - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(woken), max(0.01, timeout))

    async def _laggards(self, seq: int) -> list[tuple[str, float]]:
        """Other nodes that serve the API, may still believe they are live, and have not
        applied `seq` (fenced ones too, until their lease runs out)."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT node_id, EXTRACT(EPOCH FROM lease_until - now())::float8"
                " FROM cluster_nodes WHERE lease_until > now() AND applied_seq < %s"
                " AND role IN ('all', 'frontend') AND node_id <> %s",
                (seq, self.node_id),
            )
            return [(str(r[0]), float(r[1])) for r in await cur.fetchall()]

    async def _fence(self, nodes: list[str], seq: int) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE cluster_nodes SET fenced = true"
                " WHERE node_id = ANY(%s) AND applied_seq < %s RETURNING node_id",
                (nodes, seq),
            )
            gone = [str(r[0]) for r in await cur.fetchall()]
        if gone:
            log.warning("cluster: fenced %s: change %d not applied within a lease", gone, seq)

    def _next_ack(self) -> asyncio.Future[None]:
        if self._acks is None or self._acks.done():
            self._acks = asyncio.get_running_loop().create_future()
        return self._acks

    def _wake_writers(self) -> None:
        if self._acks is not None and not self._acks.done():
            self._acks.set_result(None)

    # -- listening and applying --------------------------------------------------------
    async def _listen_forever(self) -> None:
        delay, first = _RECONNECT_S, True
        while not self._stopping:
            try:
                async with await AsyncConnection.connect(
                    self._url,
                    autocommit=True,
                    connect_timeout=5,
                    application_name=f"lambent-changes-{self.node_id}"[:63],
                ) as conn:
                    for channel in (self._changes_channel, self._acks_channel):
                        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    if not first:
                        self._queue.put_nowait(_Reset())
                    first, delay = False, _RECONNECT_S
                    self._connected.set()
                    async for note in conn.notifies():
                        self._heard(note.channel, note.payload)
            except Exception as exc:  # psycopg.Error, OSError, or a bug: listen again
                if self._connected.is_set():
                    log.warning("cluster: change feed lost its connection: %s", exc)
            self._connected.clear()
            self._wake_writers()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX_S)

    def _heard(self, channel: str, payload: str) -> None:
        if channel == self._acks_channel:
            self._wake_writers()
        elif channel == self._changes_channel:
            try:
                self._queue.put_nowait(Change.parse(payload))
            except (ValueError, KeyError) as exc:
                log.warning("cluster: unreadable change %r: %s", payload[:200], exc)

    async def _apply_forever(self) -> None:
        """Apply what arrives, in order; acknowledge after each batch (what had queued up,
        at most _BATCH), so a steady stream of changes never starves the writers' acks."""
        while not self._stopping:
            try:
                timeout = None if self._acked >= self._applied else self._settings.heartbeat_s
                item = await asyncio.wait_for(self._queue.get(), timeout)
            except TimeoutError:  # an acknowledgement that failed: try it again
                await self._record_applied()
                continue
            await self._apply(item)
            for _ in range(_BATCH - 1):
                if self._queue.empty():
                    break
                await self._apply(self._queue.get_nowait())
            if self._acked < self._applied:
                await self._record_applied()

    async def _apply(self, item: Change | _Reset) -> None:
        try:
            if isinstance(item, _Reset):
                await self._reset()
            elif item.seq > self._applied:
                if item.node != self.node_id:  # the writer applied its own already
                    await self._catalog.apply_remote(
                        item.account, item.name, item.version, published=item.published
                    )
                self._applied = max(self._applied, item.seq)
        except Exception:
            # Not acknowledged: writers wait, then fence this node, which joins again with
            # an empty cache. Meanwhile forget everything and try again from scratch.
            log.exception("cluster: applying %r failed; starting over", item)
            await asyncio.sleep(_RECONNECT_S)
            self._queue.put_nowait(_Reset())

    async def _reset(self) -> int:
        """Forget the whole cache; everything up to the sequence read first is applied."""
        async with self._pool.connection() as conn:
            cur = await conn.execute("SELECT seq FROM cluster_change_seq")
            row = await cur.fetchone()
        seq = int(row[0]) if row else 0
        await self._catalog.invalidate_all()
        self.resets += 1
        self._applied = max(self._applied, seq)
        return self._applied

    async def _record_applied(self) -> None:
        applied = self._applied
        try:
            async with self._pool.connection() as conn:
                await conn.execute(
                    "WITH u AS (UPDATE cluster_nodes SET applied_seq = greatest(applied_seq, %s)"
                    " WHERE node_id = %s RETURNING node_id)"
                    " SELECT pg_notify(%s, node_id) FROM u",
                    (applied, self.node_id, self._acks_channel),
                )
        except (psycopg.Error, OSError, TimeoutError) as exc:
            log.warning("cluster: could not record applied change %d: %s", applied, exc)
            await asyncio.sleep(_RECONNECT_S)
            return
        self._acked = max(self._acked, applied)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
