"""Function logs in SQLite (their own file in the data dir): the default log store.

`emit` only appends to the in-memory buffer (buffer.py), so the event loop never waits on
disk. A background thread drains it every `flush_interval_s` and writes each drain in one
transaction; it also runs the retention sweep. The Logs API's operations run on worker
threads (`asyncio.to_thread`): a long FilterLogEvents scan must not stall the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from lambent.clock import Clock
from lambent.logs import retention, schema
from lambent.logs.buffer import MAX_QUEUED_EVENTS, Batch, LogBuffer, rows_of
from lambent.logs.errors import GROUP_MISSING, STREAM_EXISTS, already_exists, not_found
from lambent.logs.interface import Accept
from lambent.logs.reader import LogReader
from lambent.logs.scan import EventQuery, GroupRow, StreamEvent
from lambent.logs.sink import LogEvent
from lambent.logs.tokens import EventKey
from lambent.logs.writer import LogWriter
from lambent.settings import LogSettings

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 300.0
T = TypeVar("T")


class SqliteLogStore:
    def __init__(
        self,
        path: Path,
        settings: LogSettings,
        clock: Clock,
        *,
        sweep_interval_s: float = SWEEP_INTERVAL_S,
        max_queued_events: int = MAX_QUEUED_EVENTS,
        background: bool = True,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._sweep_interval = sweep_interval_s
        self._path = path
        write_conn = schema.connect(path)
        schema.create(write_conn)
        self._conns = [write_conn]
        self._writer = LogWriter(write_conn, settings.max_events_per_group)
        # Readers are pooled: a long FilterLogEvents scan must not hold up other reads.
        self._idle_readers: list[LogReader] = []
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._buffer = LogBuffer(max_queued_events, on_early=self._wake.set)
        self._closed = False
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="lambent-logs", daemon=True)
            self._thread.start()

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

    # writing batches (on the background thread) ------------------------------------------
    def flush_now(self) -> None:
        with self._write_lock:
            batch = self._buffer.drain()
            if batch:
                self._write(batch)

    def _write(self, batch: Batch) -> None:
        now_ms = int(self._clock.time() * 1000)
        writer = self._writer
        with writer.transaction():
            touched: set[int] = set()
            for (account, group, stream), events in batch.items():
                gid, sid = writer.ensure_stream(account, group, stream, now_ms)
                writer.insert(gid, sid, rows_of(events), now_ms)
                touched.add(gid)
            for gid in touched:
                writer.trim(gid)

    def sweep_now(self) -> int:
        now_ms = int(self._clock.time() * 1000)
        default = self._settings.default_retention_days
        removed = 0
        with self._write_lock:
            for gid, days in self._writer.groups_for_sweep():
                cutoff = retention.cutoff_ms(now_ms, retention.effective_days(days, default))
                with self._writer.transaction():
                    removed += self._writer.expire(gid, cutoff)
                    removed += self._writer.trim(gid)
        return removed

    def close_now(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.flush_now()
        finally:
            with self._write_lock, self._read_lock:
                for conn in self._conns:
                    conn.close()

    def _run(self) -> None:
        last_sweep = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(self._settings.flush_interval_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.flush_now()
                if time.monotonic() - last_sweep >= self._sweep_interval:
                    last_sweep = time.monotonic()
                    self.sweep_now()
            except Exception:
                log.exception("writing logs failed")

    async def flush(self) -> None:
        await asyncio.to_thread(self.flush_now)

    async def sweep(self) -> int:
        return await asyncio.to_thread(self.sweep_now)

    async def close(self) -> None:
        await asyncio.to_thread(self.close_now)

    # connections -------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self) -> Iterator[LogWriter]:
        """The writer inside one transaction, under the write lock."""
        with self._write_lock, self._writer.transaction():
            yield self._writer

    @contextlib.contextmanager
    def reading(self) -> Iterator[LogReader]:
        """A reader on its own connection (WAL: sees the last committed batch)."""
        with self._read_lock:
            if self._closed:
                raise RuntimeError("log store is closed")
            if self._idle_readers:
                reader = self._idle_readers.pop()
            else:
                conn = schema.connect(self._path)
                self._conns.append(conn)
                reader = LogReader(conn)
        try:
            yield reader
        finally:
            with self._read_lock:
                self._idle_readers.append(reader)

    async def _in_writer(self, op: Callable[[LogWriter], T]) -> T:
        def run() -> T:
            with self.writing() as w:
                return op(w)

        return await asyncio.to_thread(run)

    async def _in_reader(self, op: Callable[[LogReader], T]) -> T:
        def run() -> T:
            with self.reading() as r:
                return op(r)

        return await asyncio.to_thread(run)

    # the Logs API (interface.LogStore) ---------------------------------------------------
    async def create_group(self, account: str, name: str, now_ms: int) -> bool:
        return await self._in_writer(lambda w: w.create_group(account, name, now_ms))

    async def delete_group(self, account: str, name: str) -> bool:
        return await self._in_writer(lambda w: w.delete_group(account, name))

    async def set_retention(self, account: str, name: str, days: int | None) -> bool:
        def op(w: LogWriter) -> bool:
            gid = w.group_id(account, name)
            if gid is not None:
                w.set_retention(gid, days)
            return gid is not None

        return await self._in_writer(op)

    async def create_stream(self, account: str, group: str, stream: str, now_ms: int) -> None:
        def op(w: LogWriter) -> None:
            if not w.create_stream(_gid(w, account, group), stream, now_ms):
                raise already_exists(STREAM_EXISTS)

        await self._in_writer(op)

    async def delete_stream(self, account: str, group: str, stream: str) -> None:
        await self._in_writer(lambda w: w.delete_stream(_gid(w, account, group), stream))

    async def put_events(
        self, account: str, group: str, stream: str, now_ms: int, accept: Accept
    ) -> None:
        def op(w: LogWriter) -> None:
            gid = _gid(w, account, group)
            sid = w.existing_stream(gid, stream)
            w.insert(gid, sid, accept(w.retention_days(gid)), now_ms)
            w.trim(gid)

        await self._in_writer(op)

    async def groups(
        self, account: str, prefix: str, contains: str | None, after: str | None, limit: int
    ) -> list[GroupRow]:
        return await self._in_reader(lambda r: r.groups(account, prefix, contains, after, limit))

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
        def op(r: LogReader) -> list[dict[str, Any]]:
            gid = r.group(account, group).gid
            return r.streams(gid, prefix, by_last_event, descending, after, limit)

        return await self._in_reader(op)

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
        def op(r: LogReader) -> list[StreamEvent]:
            sid = r.stream_id(r.group(account, group).gid, stream)
            return r.stream_events(sid, window[0], window[1], limit, forward, bound)

        return await self._in_reader(op)

    async def filter_events(
        self, account: str, group: str, query: EventQuery
    ) -> tuple[list[dict[str, Any]], EventKey | None]:
        return await self._in_reader(lambda r: r.filter_events(r.group(account, group).gid, query))


def _gid(w: LogWriter, account: str, group: str) -> int:
    gid = w.group_id(account, group)
    if gid is None:
        raise not_found(GROUP_MISSING)
    return gid
