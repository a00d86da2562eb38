"""Function logs on disk (SQLite, its own file), written in batches, read by the Logs API.

`emit` only appends to an in-memory queue under a short lock, so the event loop never
waits on disk. A background thread drains the queue every `flush_interval_s` and writes
each drain in one transaction; it also runs the retention sweep. The queue is bounded:
if the disk cannot keep up, the oldest queued events are dropped and counted rather
than letting memory grow without limit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from lambent.clock import Clock
from lambent.logs import retention, schema
from lambent.logs.reader import LogReader
from lambent.logs.sink import LogEvent
from lambent.logs.writer import EventRow, LogWriter
from lambent.settings import LogSettings

log = logging.getLogger(__name__)

# CloudWatch Logs' event size limit is 256 KiB including 26 bytes of overhead.
MAX_MESSAGE_BYTES = 262_144 - 26
SWEEP_INTERVAL_S = 300.0
MAX_QUEUED_EVENTS = 500_000
# Flush early once this many events wait, without waiting for the interval.
EARLY_FLUSH_EVENTS = 20_000

StreamKey = tuple[str, str, str]


def clip(message: str) -> str:
    """A message cut to the event size limit on a UTF-8 character boundary."""
    data = message.encode()
    if len(data) <= MAX_MESSAGE_BYTES:
        return message
    return data[:MAX_MESSAGE_BYTES].decode("utf-8", "ignore")


class LogStore:
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
        self._max_queued = max_queued_events
        self._path = path
        write_conn = schema.connect(path)
        schema.create(write_conn)
        self._conns = [write_conn]
        self._writer = LogWriter(write_conn, settings.max_events_per_group)
        # Readers are pooled: a long FilterLogEvents scan must not hold up other reads.
        self._idle_readers: list[LogReader] = []
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: dict[StreamKey, list[LogEvent]] = {}
        self._queued = 0
        self.dropped = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="lambent-logs", daemon=True)
            self._thread.start()

    # LogSink ---------------------------------------------------------------------------
    def emit(self, account_id: str, group: str, stream: str, events: list[LogEvent]) -> None:
        if not events or self._closed:
            return
        with self._queue_lock:
            self._queue.setdefault((account_id, group, stream), []).extend(events)
            self._queued += len(events)
            if self._queued > self._max_queued:
                self._drop_oldest_locked(self._queued - self._max_queued)
            early = self._queued >= EARLY_FLUSH_EVENTS
        if early:
            self._wake.set()

    def _drop_oldest_locked(self, count: int) -> None:
        for key in list(self._queue):
            if count <= 0:
                break
            pending = self._queue[key]
            cut = min(count, len(pending))
            del pending[:cut]
            if not pending:
                del self._queue[key]
            count -= cut
            self._queued -= cut
            self.dropped += cut
        log.warning("log queue full: dropped events (%d dropped so far)", self.dropped)

    def flush(self) -> None:
        with self._write_lock:
            with self._queue_lock:
                batch, self._queue, self._queued = self._queue, {}, 0
            if batch:
                self._write(batch)

    def _write(self, batch: dict[StreamKey, list[LogEvent]]) -> None:
        now_ms = int(self._clock.time() * 1000)
        writer = self._writer
        with writer.transaction():
            touched: set[int] = set()
            for (account, group, stream), events in batch.items():
                gid, sid = writer.ensure_stream(account, group, stream, now_ms)
                rows: list[EventRow] = [(e.timestamp_ms, clip(e.message)) for e in events]
                writer.insert(gid, sid, rows, now_ms)
                touched.add(gid)
            for gid in touched:
                writer.trim(gid)

    def sweep(self) -> int:
        """Apply retention to every group now; returns how many events went."""
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

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.flush()
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
                self.flush()
                if time.monotonic() - last_sweep >= self._sweep_interval:
                    last_sweep = time.monotonic()
                    self.sweep()
            except Exception:
                log.exception("writing logs failed")

    # access for the Logs API -------------------------------------------------------------
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

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def settings(self) -> LogSettings:
        return self._settings
