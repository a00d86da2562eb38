"""Group commit: one writer thread, one connection, many writes per fsync.

Callers on the event loop submit small functions of a connection. The writer takes every
function waiting, runs them inside one `BEGIN IMMEDIATE ... COMMIT` (each in its own
savepoint, so one failing write does not undo its neighbours) and only then resolves their
futures. With `synchronous=FULL` the commit is the fsync, so a caller that got its result
knows its write is on disk, and a burst of a hundred acceptances costs a few fsyncs, not a
hundred: while one commit is flushing, the next batch gathers.
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


class WriterClosed(RuntimeError):
    """The queue was closed while the write waited."""


class GroupCommitWriter:
    def __init__(self, path: Path, setup: Callable[[sqlite3.Connection], None]) -> None:
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        setup(self._conn)
        self._pending: deque[tuple[Work, Future[Any]]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.commits = 0
        self.operations = 0
        self._thread = threading.Thread(target=self._run, name="async-queue-writer", daemon=True)
        self._thread.start()

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in the next group transaction; returns once that transaction committed."""
        fut: Future[T] = Future()
        with self._cond:
            if self._closed:
                raise WriterClosed("the event queue is closed")
            self._pending.append((work, fut))
            self._cond.notify()
        return await asyncio.wrap_future(fut)

    def _take(self) -> list[tuple[Work, Future[Any]]] | None:
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

    def _commit(self, batch: list[tuple[Work, Future[Any]]]) -> None:
        results: list[tuple[Future[Any], bool, Any]] = []
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            for work, fut in batch:
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
            for _, fut in batch:
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
