"""Function logs in PostgreSQL: the log store of a `--database` server.

`emit` appends to the in-memory buffer (buffer.py) and returns: the invoke path never
waits on the database. A task on the event loop drains the buffer every
`flush_interval_s` (at once when it grows large) and writes the drain in one transaction
with one COPY, whose text is built on a worker thread; it also runs the retention sweep.
A batch that fails (PostgreSQL restarting) goes back into the buffer and is written
when the database is back, within the buffer's bound. Each node writes its own batches;
any node's Logs API reads everything every node committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from psycopg_pool import AsyncConnectionPool

from lambent.clock import Clock
from lambent.logs.buffer import MAX_QUEUED_EVENTS, LogBuffer
from lambent.logs.errors import (
    GROUP_MISSING,
    STREAM_EXISTS,
    STREAM_MISSING,
    already_exists,
    not_found,
)
from lambent.logs.interface import Accept
from lambent.logs.pg import reader, writer
from lambent.logs.pg.schema import COMPONENT, MIGRATIONS
from lambent.logs.pg.writer import Conn, IdCache
from lambent.logs.scan import EventQuery, GroupRow, StreamEvent
from lambent.logs.sink import LogEvent
from lambent.logs.tokens import EventKey
from lambent.pg.connect import open_pool
from lambent.pg.migrations import migrate
from lambent.settings import LogSettings

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 300.0
# After a failed batch, wait this long before the next try (the database is likely down).
RETRY_AFTER_S = 1.0
POOL_SIZE = 2
# The retention sweep's advisory lock, with the schema's hash: one sweeper per cluster.
SWEEP_LOCK = 0x4C4F4753  # "LOGS"


class PgLogStore:
    def __init__(
        self,
        pool: AsyncConnectionPool[Conn],
        settings: LogSettings,
        clock: Clock,
        *,
        sweep_interval_s: float = SWEEP_INTERVAL_S,
        max_queued_events: int = MAX_QUEUED_EVENTS,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._clock = clock
        self._sweep_interval = sweep_interval_s
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._buffer = LogBuffer(max_queued_events, on_early=self._wake_soon)
        self._cache = IdCache()
        self._write_lock = asyncio.Lock()
        self._closed = False
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        settings: LogSettings,
        clock: Clock,
        *,
        background: bool = True,
        **kwargs: Any,
    ) -> PgLogStore:
        """Open a pool, apply the log tables' migrations, start the batch writer."""
        pool: AsyncConnectionPool[Conn] = await open_pool(url, name="logs", max_size=POOL_SIZE)
        try:
            await migrate(pool, COMPONENT, MIGRATIONS)
        except BaseException:
            await pool.close()
            raise
        store = cls(pool, settings, clock, **kwargs)
        if background:
            store._task = asyncio.create_task(store._run(), name="lambent-logs")
        return store

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def settings(self) -> LogSettings:
        return self._settings

    @property
    def dropped(self) -> int:
        return self._buffer.dropped

    @property
    def queued(self) -> int:
        return self._buffer.queued

    # LogSink ---------------------------------------------------------------------------
    def emit(self, account_id: str, group: str, stream: str, events: list[LogEvent]) -> None:
        if events and not self._closed:
            self._buffer.add((account_id, group, stream), events)

    def _wake_soon(self) -> None:
        self._loop.call_soon_threadsafe(self._wake.set)

    # writing batches ---------------------------------------------------------------------
    async def flush(self) -> None:
        async with self._write_lock:
            batch = self._buffer.drain()
            if not batch:
                return
            now_ms = int(self._clock.time() * 1000)
            max_events = self._settings.max_events_per_group
            try:
                async with self._pool.connection() as conn, conn.transaction():
                    await writer.write_batch(conn, self._cache, batch, now_ms, max_events)
            except BaseException:
                self._buffer.requeue(batch)
                raise

    async def sweep(self) -> int:
        """Retention on the groups that have something to drop. One node sweeps at a time
        (an advisory lock; the others skip this round): every node runs the sweep, and
        each would find the same work."""
        now_ms = int(self._clock.time() * 1000)
        default = self._settings.default_retention_days
        max_events = self._settings.max_events_per_group
        removed = 0
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))", (SWEEP_LOCK,)
            )
            row = await cur.fetchone()
            if row is None or not row[0]:
                return 0
            try:
                for gid, cutoff in await writer.sweep_candidates(conn, now_ms, default, max_events):
                    async with conn.transaction():
                        locked = await conn.execute(
                            "SELECT id FROM logs_groups WHERE id = %s FOR UPDATE", (gid,)
                        )
                        if await locked.fetchone() is None:
                            continue  # deleted meanwhile
                        removed += await writer.expire(conn, self._cache, gid, cutoff)
                        removed += await writer.trim(conn, gid, max_events)
            finally:
                await conn.execute(
                    "SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", (SWEEP_LOCK,)
                )
        return removed

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            try:
                await self.flush()
            except Exception:
                log.warning("could not write the last %d log events", self._buffer.queued)
        finally:
            await self._pool.close()

    async def _run(self) -> None:
        last_sweep = time.monotonic()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.flush_interval_s)
            self._wake.clear()
            try:
                await self.flush()
                if time.monotonic() - last_sweep >= self._sweep_interval:
                    last_sweep = time.monotonic()
                    await self.sweep()
            except Exception as exc:
                log.warning("writing logs to PostgreSQL failed (will retry): %s", exc)
                await asyncio.sleep(RETRY_AFTER_S)

    # the Logs API (interface.LogStore) ---------------------------------------------------
    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Conn]:
        async with self._pool.connection() as conn, conn.transaction():
            yield conn

    async def create_group(self, account: str, name: str, now_ms: int) -> bool:
        async with self._pool.connection() as conn:
            return await writer.create_group(conn, account, name, now_ms)

    async def delete_group(self, account: str, name: str) -> bool:
        async with self._transaction() as conn:
            return await writer.delete_group(conn, self._cache, account, name)

    async def set_retention(self, account: str, name: str, days: int | None) -> bool:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE logs_groups SET retention_days = %s WHERE account = %s AND name = %s",
                (days, account, name),
            )
            return cur.rowcount == 1

    async def create_stream(self, account: str, group: str, stream: str, now_ms: int) -> None:
        async with self._transaction() as conn:
            gid = await self._locked_group(conn, account, group, "FOR SHARE")
            if not await writer.create_stream(conn, gid, stream, now_ms):
                raise already_exists(STREAM_EXISTS)

    async def delete_stream(self, account: str, group: str, stream: str) -> None:
        async with self._transaction() as conn:
            gid = await self._locked_group(conn, account, group, "FOR UPDATE")
            sid = await writer.stream_id(conn, gid, stream)
            if sid is None:
                raise not_found(STREAM_MISSING)
            await writer.delete_stream(conn, self._cache, gid, sid, stream)

    async def put_events(
        self, account: str, group: str, stream: str, now_ms: int, accept: Accept
    ) -> None:
        async with self._transaction() as conn:
            gid = await self._locked_group(conn, account, group, "FOR UPDATE")
            sid = await writer.stream_id(conn, gid, stream)
            if sid is None:
                raise not_found(STREAM_MISSING)
            cur = await conn.execute("SELECT retention_days FROM logs_groups WHERE id = %s", (gid,))
            row = await cur.fetchone()
            days = None if row is None or row[0] is None else int(row[0])
            accepted = [LogEvent(ts, message) for ts, message in accept(days)]
            await writer.insert(conn, [(gid, sid, accepted)], now_ms)
            await writer.trim(conn, gid, self._settings.max_events_per_group)

    @staticmethod
    async def _locked_group(conn: Conn, account: str, group: str, lock: str) -> int:
        gid = await writer.group_id(conn, account, group, lock=lock)
        if gid is None:
            raise not_found(GROUP_MISSING)
        return gid

    async def groups(
        self, account: str, prefix: str, contains: str | None, after: str | None, limit: int
    ) -> list[GroupRow]:
        async with self._pool.connection() as conn:
            return await reader.groups(conn, account, prefix, contains, after, limit)

    async def streams(
        self,
        account: str,
        group: str,
        prefix: str,
        by_last_event: bool,
        descending: bool,
        after: list[Any] | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn:
            gid = (await reader.group(conn, account, group)).gid
            return await reader.streams(conn, gid, prefix, by_last_event, descending, after, limit)

    async def stream_events(
        self,
        account: str,
        group: str,
        stream: str,
        window: tuple[int | None, int | None],
        limit: int,
        forward: bool,
        bound: EventKey | None,
    ) -> list[StreamEvent]:
        async with self._pool.connection() as conn:
            gid = (await reader.group(conn, account, group)).gid
            sid = await reader.stream_id(conn, gid, stream)
            return await reader.stream_events(conn, sid, window, limit, forward, bound)

    async def filter_events(
        self, account: str, group: str, query: EventQuery
    ) -> tuple[list[dict[str, Any]], EventKey | None]:
        async with self._pool.connection() as conn:
            gid = (await reader.group(conn, account, group)).gid
            return await reader.filter_events(conn, gid, query)
