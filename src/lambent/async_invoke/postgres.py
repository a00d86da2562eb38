"""The PostgreSQL event queue: one queue shared by every node of a cluster.

Table `queue_events` (component "async_queue", migrations below). Writes go through group
commit (pg_writer.py): an acceptance's 202 follows its COMMIT, and concurrent acceptances
share one. Claims are `FOR UPDATE SKIP LOCKED`, so nodes claiming at once take disjoint
events without waiting on each other.

Claims have an owner and two ends:
- `deadline`: the claim's own bound (`now + lease_s`, the scheduler's claim timeout), past
  which a delivery stuck on a live node is handed out again, as on SQLite;
- `claimed_until`: when the claim lapses, `min(deadline, now + node_lease_s)`. The owner
  renews every claim it holds every `node_lease_s / 3` (`renew`), so while the node lives
  only the deadline ends its claims; a node that dies (or loses PostgreSQL for longer than
  a node lease) stops renewing, and its claims become claimable by any node one node lease
  later. Renewals also look for other nodes' lapsed claims and wake this node for them.

`recover()` at start releases only this node's own claims (a node restarting with the
same id takes its claims back at once): the other nodes' claims are theirs while they live.
A late owner can still complete an event, but its reschedules and releases apply only to
claims it still holds.

Guarantee: at least once. An accepted event is delivered until a node settles it. A node
that dies mid-delivery, or stalls past its lease (a pause, a partition from PostgreSQL),
has its deliveries run again by another node after the lease: the same event may then
run twice (the second attempt carries the same request id), never zero times.

Other nodes are woken by NOTIFY on a channel of this schema (pg_wakeups.py): an enqueue,
a retry or a hand-back on any node wakes every other node's scheduler at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, LiteralString

from lambent.async_invoke.event import Destination, EventState, QueuedEvent
from lambent.async_invoke.pg_wakeups import Wakeups
from lambent.async_invoke.pg_writer import PgGroupWriter, Pool
from lambent.async_invoke.queue import DueFunction, QueueStats
from lambent.clock import Clock
from lambent.pg.connect import CONNECT_TIMEOUT_S, open_pool
from lambent.pg.migrations import Migration, migrate

log = logging.getLogger(__name__)
COMPONENT = "async_queue"
NODE_LEASE_S = 15.0

MIGRATIONS = [
    Migration(
        1,
        """
CREATE TABLE queue_events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    function text NOT NULL,
    destination text NOT NULL,
    payload bytea NOT NULL,
    state text NOT NULL,
    available_at double precision NOT NULL,
    claimed_until double precision,
    deadline double precision,
    owner text
);
CREATE INDEX queue_events_function_due ON queue_events (function, available_at, seq)
    WHERE claimed_until IS NULL;
CREATE INDEX queue_events_function_claimed ON queue_events (function, claimed_until)
    WHERE claimed_until IS NOT NULL;
CREATE INDEX queue_events_due ON queue_events (available_at) WHERE claimed_until IS NULL;
CREATE INDEX queue_events_claimed ON queue_events (claimed_until)
    WHERE claimed_until IS NOT NULL;
CREATE INDEX queue_events_owner ON queue_events (owner) WHERE owner IS NOT NULL;
""",
    )
]

COLUMNS = "e.event_id, e.destination, e.payload, e.state, e.available_at"

# Lapsed claims first (oldest lapse first), then the oldest due; locked rows are skipped,
# so concurrent claimers on other nodes take other events.
CLAIM = f"""
WITH lapsed AS (
    SELECT seq, 0 AS k, claimed_until AS t FROM queue_events
    WHERE function = %(fn)s AND claimed_until IS NOT NULL AND claimed_until <= %(now)s
    ORDER BY claimed_until, seq LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), due AS (
    SELECT seq, 1 AS k, available_at AS t FROM queue_events
    WHERE function = %(fn)s AND claimed_until IS NULL AND available_at <= %(now)s
    ORDER BY available_at, seq LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), picked AS (
    SELECT seq, k, t FROM lapsed UNION ALL SELECT seq, k, t FROM due
    ORDER BY k, t, seq LIMIT %(limit)s
)
UPDATE queue_events e
SET claimed_until = LEAST(%(deadline)s, %(lapse)s), deadline = %(deadline)s, owner = %(node)s
FROM picked WHERE e.seq = picked.seq
RETURNING {COLUMNS}, picked.k, picked.t, e.seq
"""

# The functions with unclaimed due events: one index probe per distinct function (a loose
# index scan), each counted up to the cap, whatever the backlog behind them.
DUE_UNCLAIMED = """
WITH RECURSIVE fns(fn) AS (
    (SELECT function FROM queue_events WHERE claimed_until IS NULL ORDER BY function LIMIT 1)
    UNION ALL
    SELECT (SELECT function FROM queue_events
            WHERE claimed_until IS NULL AND function > fns.fn ORDER BY function LIMIT 1)
    FROM fns WHERE fns.fn IS NOT NULL
)
SELECT fns.fn, d.n, d.first FROM fns CROSS JOIN LATERAL (
    SELECT count(*) AS n, min(available_at) AS first FROM (
        SELECT available_at FROM queue_events
        WHERE claimed_until IS NULL AND function = fns.fn AND available_at <= %(now)s
        ORDER BY available_at LIMIT %(cap)s
    ) s
) d
WHERE fns.fn IS NOT NULL AND d.n > 0
"""
DUE_LAPSED = """
SELECT function, count(*), min(claimed_until) FROM queue_events
WHERE claimed_until IS NOT NULL AND claimed_until <= %(now)s GROUP BY function
"""
NEXT_DUE = """
SELECT (SELECT min(available_at) FROM queue_events
        WHERE claimed_until IS NULL AND available_at > %(after)s),
       (SELECT min(claimed_until) FROM queue_events
        WHERE claimed_until IS NOT NULL AND claimed_until > %(after)s)
"""
RENEW = """
UPDATE queue_events SET claimed_until = LEAST(deadline, %(lapse)s)
WHERE owner = %(node)s AND claimed_until IS NOT NULL
"""
OTHERS_LAPSED = """
SELECT EXISTS (SELECT 1 FROM queue_events WHERE claimed_until IS NOT NULL
               AND claimed_until <= %(now)s AND owner IS DISTINCT FROM %(node)s)
"""
CLAIMED_ELSEWHERE_FN = """
SELECT EXISTS (SELECT 1 FROM queue_events WHERE function = %(fn)s
               AND claimed_until IS NOT NULL AND claimed_until > %(now)s AND owner <> %(node)s)
"""
CLAIMED_ELSEWHERE_ACCOUNT = """
SELECT EXISTS (SELECT 1 FROM queue_events WHERE claimed_until IS NOT NULL
               AND claimed_until > %(now)s AND owner <> %(node)s
               AND split_part(function, ':', 5) = %(account)s)
"""
RECOVER = """
UPDATE queue_events SET claimed_until = NULL, deadline = NULL, owner = NULL
WHERE owner = %(node)s
"""


def _event(row: Sequence[Any]) -> QueuedEvent:
    event_id, destination, payload, state, available_at = row[:5]
    return QueuedEvent(
        event_id=str(event_id),
        destination=Destination.from_json(str(destination)),
        payload=bytes(payload),
        state=EventState.from_json(str(state)),
        available_at=float(available_at),
    )


@dataclass(frozen=True, slots=True)
class Renewal:
    renewed: int  # claims of this node extended
    lapsed_elsewhere: bool  # another node's claims lapsed (this node was woken for them)


def channel_for(schema: str) -> str:
    """NOTIFY channels are per database: the schema in the name keeps clusters apart."""
    return f"lambent_queue:{schema}"[:63]


class PostgresQueue:
    """Open with `PostgresQueue.open(...)`; `renew=False` leaves renewal to the caller
    (`renew(now)`), for tests that pass their own times."""

    def __init__(
        self,
        pool: Pool,
        *,
        url: str,
        node_id: str,
        clock: Clock,
        channel: str,
        node_lease_s: float = NODE_LEASE_S,
    ) -> None:
        self._pool = pool
        self.node_id = node_id
        self._clock = clock
        self.node_lease_s = node_lease_s
        self._writer = PgGroupWriter(pool, node_id=node_id, channel=channel)
        self._wake: list[Callable[[], None]] = []
        self.wakeups = Wakeups(url, channel, node_id, self._remote)
        self._renewer: asyncio.Task[None] | None = None
        self._reads = 0

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        node_id: str,
        clock: Clock,
        node_lease_s: float = NODE_LEASE_S,
        renew: bool = True,
        pool_size: int = 3,
    ) -> PostgresQueue:
        # A connection not had within the connect timeout is an outage: the Event invoke
        # waiting on it gets its 5xx then, not after the pool's default wait.
        pool = await open_pool(
            url, name="async-queue", min_size=1, max_size=pool_size, timeout_s=CONNECT_TIMEOUT_S
        )
        try:
            await migrate(pool, COMPONENT, MIGRATIONS)
            async with pool.connection() as conn:
                cur = await conn.execute("SELECT current_schema()")
                row = await cur.fetchone()
            schema = str(row[0]) if row else "public"
            queue = cls(
                pool,
                url=url,
                node_id=node_id,
                clock=clock,
                channel=channel_for(schema),
                node_lease_s=node_lease_s,
            )
            await queue.wakeups.start()
        except BaseException:
            await pool.close()
            raise
        if renew:
            queue._renewer = asyncio.create_task(queue._renew_loop(), name="async-queue-renew")
        return queue

    # -- wake-ups ------------------------------------------------------------------------
    def on_remote(self, wake: Callable[[], None]) -> None:
        self._wake.append(wake)

    def _remote(self) -> None:
        for wake in self._wake:
            wake()

    # -- writes (group commit) ---------------------------------------------------------
    async def enqueue(self, event: QueuedEvent) -> None:
        row = (
            event.event_id,
            event.destination.function_arn,
            event.destination.to_json(),
            event.payload,
            event.state.to_json(),
            event.available_at,
        )
        await self._writer.write("enqueue", [row])

    async def complete(self, event_id: str) -> None:
        await self._writer.write("complete", [(event_id,)])

    async def reschedule(self, event_id: str, state: EventState, available_at: float) -> None:
        await self._writer.write("reschedule", [(event_id, state.to_json(), available_at)])

    async def release(self, event_ids: Sequence[str]) -> None:
        await self._writer.write("release", [(event_id,) for event_id in event_ids])

    # -- claims and reads --------------------------------------------------------------
    async def _fetch(self, query: LiteralString, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        self._reads += 1
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, params)
            return await cur.fetchall()

    async def claim(
        self, function_arn: str, now: float, limit: int, lease_s: float
    ) -> list[QueuedEvent]:
        if limit <= 0:
            return []
        params = {
            "fn": function_arn,
            "now": now,
            "limit": limit,
            "deadline": now + lease_s,
            "lapse": now + self.node_lease_s,
            "node": self.node_id,
        }
        rows = await self._fetch(CLAIM, params)
        rows.sort(key=lambda r: (r[5], r[6], r[7]))
        lapsed = sum(1 for r in rows if r[5] == 0)
        if lapsed:
            log.info("async: %d events whose claim lapsed are claimed again", lapsed)
        return [_event(row) for row in rows]

    async def due_functions(self, now: float, cap: int) -> list[DueFunction]:
        found: dict[str, DueFunction] = {}
        for fn, count, first in await self._fetch(DUE_UNCLAIMED, {"now": now, "cap": cap}):
            found[fn] = DueFunction(fn, int(count), float(first))
        for fn, count, first in await self._fetch(DUE_LAPSED, {"now": now}):
            known = found.get(fn) or DueFunction(fn, 0, float(first))
            found[fn] = DueFunction(
                fn, min(int(count) + known.count, cap), min(float(first), known.due_at)
            )
        return sorted(found.values(), key=lambda d: (d.due_at, d.function_arn))

    async def next_due(self, after: float) -> float | None:
        rows = await self._fetch(NEXT_DUE, {"after": after})
        return min((float(t) for t in rows[0] if t is not None), default=None)

    async def claimed_elsewhere(
        self, account_id: str, function_arn: str | None, now: float
    ) -> bool:
        params = {"fn": function_arn, "account": account_id, "now": now, "node": self.node_id}
        query = CLAIMED_ELSEWHERE_ACCOUNT if function_arn is None else CLAIMED_ELSEWHERE_FN
        rows = await self._fetch(query, params)
        return bool(rows and rows[0][0])

    async def recover(self) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(RECOVER, {"node": self.node_id})
            return max(0, cur.rowcount)

    # -- the node lease ----------------------------------------------------------------
    async def renew(self, now: float) -> Renewal:
        """Extend this node's claims by a node lease; wake this node if another node's
        claims lapsed (their deliveries are ours to run now)."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                RENEW, {"lapse": now + self.node_lease_s, "node": self.node_id}
            )
            renewed = max(0, cur.rowcount)
            cur = await conn.execute(OTHERS_LAPSED, {"now": now, "node": self.node_id})
            row = await cur.fetchone()
        lapsed = bool(row and row[0])
        if lapsed:
            self._remote()
        return Renewal(renewed, lapsed)

    async def _renew_loop(self) -> None:
        while True:
            await self._clock.sleep(self.node_lease_s / 3)
            try:
                await self.renew(self._clock.time())
            except Exception as exc:
                log.warning("async queue: could not renew this node's claims (%s)", exc)

    # -- the rest ----------------------------------------------------------------------
    async def stats(self) -> QueueStats:
        rows = await self._fetch("SELECT count(*), count(claimed_until) FROM queue_events", {})
        total, claimed = int(rows[0][0]), int(rows[0][1])
        return QueueStats(
            queued=total - claimed,
            claimed=claimed,
            commits=self._writer.commits,
            operations=self._writer.operations + self._reads,
        )

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        await self.wakeups.close()
        await self._writer.close()
        await self._pool.close()
