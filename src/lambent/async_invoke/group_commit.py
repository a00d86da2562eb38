"""Group commit: one writer thread, one connection, many writes per fsync.

Callers on the event loop submit small functions of a connection. The writer takes every
function waiting, runs them inside one `BEGIN IMMEDIATE ... COMMIT` (each in its own
savepoint, so one failing write does not undo its neighbours) and only then resolves their
futures. With `synchronous=FULL` the commit is the fsync, so a caller that got its result
knows its write is on disk, and a burst of a hundred acceptances costs a few fsyncs, not a
hundred: while one commit is flushing, the next batch gathers.

Not every write needs its fsync: a claim only marks an event as being delivered, and a
claim lost in a crash changes nothing (start-up hands every claim back anyway). Work
submitted with `durable=False` (claims, reads) commits without a sync when nothing durable
shares its batch (`synchronous=NORMAL` for that commit: WAL keeps it consistent, and the
next durable commit syncs it with everything before it). That keeps an fsync off the path
from one delivery to the next.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[sqlite3.Connection], Any]
Pending = tuple[Work, "Future[Any]", bool]


class WriterClosed(RuntimeError):
    """The queue was closed while the write waited."""


class GroupCommitWriter:
    def __init__(self, path: Path, setup: Callable[[sqlite3.Connection], None]) -> None:
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        setup(self._conn)
        self._pending: deque[Pending] = deque()
        self._synced = True  # the connection's synchronous mode: FULL (True) or NORMAL
        self._cond = threading.Condition()
        self._closed = False
        self.commits = 0
        self.operations = 0
        self._thread = threading.Thread(target=self._run, name="async-queue-writer", daemon=True)
        self._thread.start()

    async def run(self, work: Callable[[sqlite3.Connection], T], *, durable: bool = True) -> T:
        """Run `work` in the next group transaction; returns once that transaction committed
        (and, if `durable`, reached the disk)."""
        fut: Future[T] = Future()
        with self._cond:
            if self._closed:
                raise WriterClosed("the event queue is closed")
            self._pending.append((work, fut, durable))
            self._cond.notify()
        return await asyncio.wrap_future(fut)

    def _take(self) -> list[Pending] | None:
        with self._cond:
            while not self._pending and not self._closed:
                self._cond.wait()
            if not self._pending:
                return None
            batch = list(self._pending)
            self._pending.clear()
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            self._commit(batch)

    def _sync_mode(self, durable: bool) -> None:
        if durable != self._synced:
            self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._synced = durable

    def _commit(self, batch: list[Pending]) -> None:
        results: list[tuple[Future[Any], bool, Any]] = []
        conn = self._conn
        try:
            self._sync_mode(any(durable for _, _, durable in batch))
            conn.execute("BEGIN IMMEDIATE")
            for work, fut, _ in batch:
                if not fut.set_running_or_notify_cancel():
                    continue
                conn.execute("SAVEPOINT op")
                try:
                    value = work(conn)
                except Exception as exc:  # one bad write must not undo the others
                    conn.execute("ROLLBACK TO op")
                    results.append((fut, False, exc))
                else:
                    results.append((fut, True, value))
                conn.execute("RELEASE op")
            conn.execute("COMMIT")
        except Exception as exc:
            log.exception("event queue transaction failed")
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for _, fut, _ in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        self.commits += 1
        self.operations += len(results)
        for fut, ok, value in results:
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        self._conn.close()
