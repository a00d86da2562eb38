"""The embedded default store: one SQLite file in WAL mode in the data dir.

No SQLite call runs on the event loop. One writer thread owns the writer connection: every
transaction (BEGIN IMMEDIATE .. COMMIT) and every write runs there, one writer at a time
(`TransactionScope`). Reads outside a transaction run on a few reader threads, each call
with a connection of its own from a small pool; in WAL mode they see the last commit and
never wait for a writer. Reads inside a transaction run on the writer connection, so they
see the transaction's own writes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import queue
import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TypeVar

from lambent.store.interface import Doc, Row, Rows, Scanned
from lambent.store.transactions import TransactionScope

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind    TEXT NOT NULL,
    account TEXT NOT NULL,
    key     TEXT NOT NULL,
    parent  TEXT NOT NULL DEFAULT '',
    doc     TEXT NOT NULL,
    PRIMARY KEY (kind, account, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS docs_parent ON docs (kind, account, parent, key);
"""

READERS = 2


def connect(path: Path, *, synchronous: str = "NORMAL") -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")
    # Deleted and overwritten content is zeroed, not left in free pages (secrets before
    # sealing, deleted keys' sealed values).
    conn.execute("PRAGMA secure_delete=ON")
    return conn


def _encode(doc: Doc) -> str:
    return json.dumps(doc, separators=(",", ":"))


def _decode(text: str) -> Doc:
    doc: Doc = json.loads(text)
    return doc


# -- statements, run on a store thread with the connection they are given ---------------------
def _get(conn: sqlite3.Connection, kind: str, account: str, key: str) -> Doc | None:
    row = conn.execute(
        "SELECT doc FROM docs WHERE kind=? AND account=? AND key=?", (kind, account, key)
    ).fetchone()
    return _decode(row[0]) if row else None


def _put(
    conn: sqlite3.Connection, kind: str, account: str, key: str, text: str, parent: str
) -> None:
    conn.execute(
        "INSERT INTO docs (kind, account, key, parent, doc) VALUES (?,?,?,?,?) "
        "ON CONFLICT (kind, account, key) DO UPDATE SET doc=excluded.doc, parent=excluded.parent",
        (kind, account, key, parent, text),
    )


def _insert(
    conn: sqlite3.Connection, kind: str, account: str, key: str, text: str, parent: str
) -> bool:
    cur = conn.execute(
        "INSERT OR IGNORE INTO docs (kind, account, key, parent, doc) VALUES (?,?,?,?,?)",
        (kind, account, key, parent, text),
    )
    return cur.rowcount == 1


def _delete(conn: sqlite3.Connection, kind: str, account: str, key: str) -> bool:
    cur = conn.execute(
        "DELETE FROM docs WHERE kind=? AND account=? AND key=?", (kind, account, key)
    )
    return cur.rowcount > 0


def _delete_children(conn: sqlite3.Connection, kind: str, account: str, parent: str) -> int:
    cur = conn.execute(
        "DELETE FROM docs WHERE kind=? AND account=? AND parent=?", (kind, account, parent)
    )
    return cur.rowcount


def _list(
    conn: sqlite3.Connection,
    kind: str,
    account: str,
    parent: str | None,
    after: str | None,
    limit: int | None,
) -> list[Row]:
    sql = "SELECT key, doc FROM docs WHERE kind=? AND account=?"
    args: list[object] = [kind, account]
    if parent is not None:
        sql += " AND parent=?"
        args.append(parent)
    if after is not None:
        sql += " AND key>?"
        args.append(after)
    sql += " ORDER BY key"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return [Row(key, _decode(doc)) for key, doc in conn.execute(sql, args).fetchall()]


def _scan(conn: sqlite3.Connection, kind: str) -> Scanned:
    rows = conn.execute(
        "SELECT account, key, doc FROM docs WHERE kind=? ORDER BY account, key", (kind,)
    ).fetchall()
    return [(account, Row(key, _decode(doc))) for account, key, doc in rows]


def _execute(conn: sqlite3.Connection, sql: str) -> None:
    conn.execute(sql)


class _Tx:
    """A transaction on the writer connection (there is only one writer at a time)."""


class SqliteStore:
    def __init__(self, path: Path, *, readers: int = READERS) -> None:
        # Opening happens once, at start-up, before anything is served.
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = connect(path)
        self._writer.executescript(SCHEMA)
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all_readers = [connect(path) for _ in range(readers)]
        for conn in self._all_readers:
            self._readers.put(conn)
        self._write_thread = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="lambent-store-write"
        )
        self._read_threads = concurrent.futures.ThreadPoolExecutor(
            max_workers=readers, thread_name_prefix="lambent-store-read"
        )
        self._scope: TransactionScope[_Tx] = TransactionScope(
            "lambent-sqlite-store", self._begin, self._commit, self._rollback
        )
        self._closed = False

    # -- threads ---------------------------------------------------------------------------
    async def _on_writer(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._write_thread, functools.partial(fn, self._writer, *args)
        )

    def _with_reader(self, fn: Callable[..., T], args: tuple[object, ...]) -> T:
        conn = self._readers.get()
        try:
            return fn(conn, *args)
        finally:
            self._readers.put(conn)

    async def _read(self, fn: Callable[..., T], *args: object) -> T:
        if self._scope.current() is not None:
            return await self._on_writer(fn, *args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._read_threads, self._with_reader, fn, args)

    async def _write(self, fn: Callable[..., T], *args: object) -> T:
        if self._scope.current() is not None:
            return await self._on_writer(fn, *args)
        async with self._scope.writer_lock():
            return await self._on_writer(fn, *args)

    # -- transactions ----------------------------------------------------------------------
    async def _begin(self) -> _Tx:
        await self._on_writer(_execute, "BEGIN IMMEDIATE")
        return _Tx()

    async def _commit(self, tx: _Tx) -> None:
        await self._on_writer(_execute, "COMMIT")

    async def _rollback(self, tx: _Tx) -> None:
        await self._on_writer(_execute, "ROLLBACK")

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return self._scope.transaction()

    # -- documents -------------------------------------------------------------------------
    async def get(self, kind: str, account: str, key: str) -> Doc | None:
        return await self._read(_get, kind, account, key)

    async def put(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> None:
        await self._write(_put, kind, account, key, _encode(doc), parent)

    async def insert(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> bool:
        return await self._write(_insert, kind, account, key, _encode(doc), parent)

    async def delete(self, kind: str, account: str, key: str) -> bool:
        return await self._write(_delete, kind, account, key)

    async def delete_children(self, kind: str, account: str, parent: str) -> int:
        return await self._write(_delete_children, kind, account, parent)

    async def list(
        self,
        kind: str,
        account: str,
        *,
        parent: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> Rows:
        return await self._read(_list, kind, account, parent, after, limit)

    async def scan(self, kind: str) -> Scanned:
        return await self._read(_scan, kind)

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file and empty it (after a migration that
        rewrote what must not linger in either)."""
        await self._write(_execute, "PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)

    def _shutdown(self) -> None:
        self._write_thread.shutdown(wait=True)
        self._read_threads.shutdown(wait=True)
        self._writer.close()
        for conn in self._all_readers:
            conn.close()
