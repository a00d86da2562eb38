"""Group commit on PostgreSQL: many queue writes, one transaction.

An acceptance's 202 waits for its commit (`synchronous_commit` on: the WAL is flushed),
and a commit costs one flush whatever it holds, so concurrent writes share it: the
enqueues waiting go into one multi-row INSERT, reschedules into one UPDATE, releases and
completions into one statement each, all in one transaction, and their callers are
answered only after COMMIT. While one batch commits the next gathers (up to `parallel`
batches in flight, each on its own pooled connection), so a hundred clients cost a few
commits, not a hundred.

A transaction that holds an enqueue, a reschedule or a release also NOTIFYs the queue's
channel (delivered at commit, never before), which wakes the other nodes' schedulers.

A batch that fails is retried write by write, each alone, so one bad write does not fail
its neighbours; an outage fails each of them with the driver's error, quickly.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)
Pool = AsyncConnectionPool[AsyncConnection[tuple[object, ...]]]
Kind = Literal["enqueue", "reschedule", "release", "complete"]
# Rows: enqueue (event_id, function, destination, payload, state, available_at);
# reschedule (event_id, state, available_at); release and complete (event_id,).
Row = tuple[Any, ...]

ENQUEUE = """
INSERT INTO queue_events (event_id, function, destination, payload, state, available_at)
SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::bytea[], %s::text[],
                     %s::float8[])
ON CONFLICT (event_id) DO NOTHING
"""
# A node settles only its own claims (or unclaimed events): once a lapsed claim was taken
# by another node, the late owner's retry state does not overwrite the new delivery's.
RESCHEDULE = """
UPDATE queue_events e
SET state = u.state, available_at = u.at, claimed_until = NULL, deadline = NULL, owner = NULL
FROM unnest(%s::text[], %s::text[], %s::float8[]) AS u(id, state, at)
WHERE e.event_id = u.id AND (e.owner = %s OR e.claimed_until IS NULL)
"""
RELEASE = """
UPDATE queue_events SET claimed_until = NULL, deadline = NULL, owner = NULL
WHERE event_id = ANY(%s::text[]) AND owner = %s
"""
COMPLETE = "DELETE FROM queue_events WHERE event_id = ANY(%s::text[])"
ORDER: tuple[Kind, ...] = ("enqueue", "reschedule", "release", "complete")


class WriterClosed(RuntimeError):
    """The queue was closed while the write waited."""


@dataclass(slots=True)
class _Write:
    kind: Kind
    rows: list[Row]
    done: asyncio.Future[None] = field(default_factory=asyncio.Future)


def _columns(rows: list[Row]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


class PgGroupWriter:
    def __init__(
        self, pool: Pool, *, node_id: str, channel: str, parallel: int = 2, max_batch: int = 2000
    ) -> None:
        self._pool = pool
        self._node = node_id
        self._channel = channel
        self._parallel = max(1, parallel)
        self._max_batch = max_batch
        self._pending: deque[_Write] = deque()
        self._flushers: set[asyncio.Task[None]] = set()
        self._closed = False
        self.commits = 0
        self.operations = 0

    async def write(self, kind: Kind, rows: list[Row]) -> None:
        """Returns once the rows are committed (durable) in some group transaction."""
        if self._closed:
            raise WriterClosed("the event queue is closed")
        if not rows:
            return
        write = _Write(kind, rows)
        self._pending.append(write)
        if len(self._flushers) < self._parallel:
            task = asyncio.create_task(self._flush_loop(), name="async-queue-commit")
            self._flushers.add(task)
            task.add_done_callback(self._flushers.discard)
        await write.done

    async def _flush_loop(self) -> None:
        while self._pending:
            batch: list[_Write] = []
            while self._pending and len(batch) < self._max_batch:
                batch.append(self._pending.popleft())
            await self._commit(batch)

    async def _commit(self, batch: list[_Write]) -> None:
        try:
            await self._transaction(batch)
        except Exception as exc:
            if len(batch) == 1:
                self._settle(batch, exc)
                return
            log.warning("event queue group commit failed (%s); retrying one by one", exc)
            for write in batch:
                try:
                    await self._transaction([write])
                except Exception as one:
                    self._settle([write], one)
                else:
                    self._settle([write], None)
            return
        self._settle(batch, None)

    async def _transaction(self, batch: list[_Write]) -> None:
        grouped: dict[Kind, list[Row]] = {}
        for write in batch:
            grouped.setdefault(write.kind, []).extend(write.rows)
        async with self._pool.connection() as conn, conn.transaction():
            for kind in ORDER:
                rows = grouped.get(kind)
                if rows:
                    await self._apply(conn, kind, rows)
            if grouped.keys() - {"complete"}:
                await conn.execute("SELECT pg_notify(%s, %s)", (self._channel, self._node))
        self.commits += 1
        self.operations += len(batch)

    async def _apply(self, conn: AsyncConnection[Any], kind: Kind, rows: list[Row]) -> None:
        if kind == "enqueue":
            await conn.execute(ENQUEUE, _columns(rows))
        elif kind == "reschedule":
            await conn.execute(RESCHEDULE, [*_columns(rows), self._node])
        elif kind == "release":
            await conn.execute(RELEASE, ([r[0] for r in rows], self._node))
        else:
            await conn.execute(COMPLETE, ([r[0] for r in rows],))

    @staticmethod
    def _settle(batch: list[_Write], exc: BaseException | None) -> None:
        for write in batch:
            if write.done.done():
                continue
            if exc is None:
                write.done.set_result(None)
            else:
                write.done.set_exception(exc)

    async def close(self) -> None:
        """Let the writes already submitted commit; refuse new ones."""
        self._closed = True
        while self._flushers:
            await asyncio.gather(*list(self._flushers), return_exceptions=True)
