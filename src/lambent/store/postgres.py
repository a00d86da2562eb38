"""PostgreSQL, the control plane's store in cluster mode (`--database`): every node of a
cluster reads and writes the same documents.

One table, `store_documents`, keyed like SQLite's (kind, account, key) with a parent for
listing. The key columns are `COLLATE "C"`, so listing, `after` and `scan` run in binary
(code point) order on every server whatever its locale, as they do in SQLite and memory.
Documents are `json`, not `jsonb`: the store never looks inside a document, and `json`
keeps what was written (key order, a "\\u0000" in a string) where `jsonb` would reorder
keys and refuse the NUL, so a document reads back the same on every backend.

Transactions: `TransactionScope` finds the current task's transaction (one pooled
connection, checked out for its whole length) and lets one task of this process in at a
time, so waiting writers queue here rather than each holding a connection. Across nodes,
writers take turns on a transaction-scoped advisory lock (one per schema, so clusters and
tests on other schemas of the same database do not contend): a transaction takes it right
after BEGIN, and a write outside a transaction runs as its own short transaction that takes
it too, so it waits for a running transaction on any node. Every writer holds the lock, so
a transaction's reads (READ COMMITTED, one snapshot per statement, taken after the lock)
see the latest commit and nothing else commits until it does: read-modify-write never
loses an update. Reads outside a transaction take no lock and see committed data.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, LiteralString, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from lambent.pg.connect import open_pool
from lambent.pg.migrations import Migration, migrate
from lambent.store.interface import Doc, Row, Rows, Scanned
from lambent.store.transactions import TransactionScope

T = TypeVar("T")
Conn = AsyncConnection[tuple[Any, ...]]
Pool = AsyncConnectionPool[Conn]

COMPONENT = "store"
MIGRATIONS = [
    Migration(
        1,
        """
        CREATE TABLE store_documents (
            kind    text COLLATE "C" NOT NULL,
            account text COLLATE "C" NOT NULL,
            key     text COLLATE "C" NOT NULL,
            parent  text COLLATE "C" NOT NULL DEFAULT '',
            doc     json NOT NULL,
            PRIMARY KEY (kind, account, key)
        );
        CREATE INDEX store_documents_parent ON store_documents (kind, account, parent, key);
        """,
    ),
]

# pg_advisory_xact_lock(int4, int4): this class, and the hash of the schema the URL selects.
_LOCK_CLASS = 0x4C535444  # "LSTD"
_LOCK: LiteralString = "SELECT pg_advisory_xact_lock(%s, %s)"

# Enough for a node's concurrent reads; writers queue in-process and use one at a time.
POOL_SIZE = 4


@dataclass
class _Tx:
    conn: Conn
    released: bool = False


Statement = Callable[[Conn], Awaitable[T]]


class PostgresStore:
    """Open with `await PostgresStore.open(url)`; close with `close()`."""

    def __init__(self, pool: Pool, schema_hash: int) -> None:
        self._pool = pool
        self._lock_args = (_LOCK_CLASS, schema_hash)
        self._scope: TransactionScope[_Tx] = TransactionScope(
            "lambent-postgres-store", self._begin, self._commit, self._rollback
        )
        self._closed = False

    @classmethod
    async def open(
        cls, url: str, *, max_size: int = POOL_SIZE, name: str = "store"
    ) -> PostgresStore:
        """Connect, apply the store's migrations, and find the schema's writer lock. The
        pool tries a connection before lending it: control-plane calls are few, and one
        round trip is cheaper than failing a request after the database restarted."""
        pool: Pool = await open_pool(url, name=name, min_size=1, max_size=max_size, check=True)
        try:
            await migrate(pool, COMPONENT, MIGRATIONS)
            async with pool.connection() as conn:
                cur = await conn.execute("SELECT hashtext(current_schema())")
                row = await cur.fetchone()
        except BaseException:
            await pool.close()
            raise
        assert row is not None
        return cls(pool, int(row[0]))

    # -- connections -----------------------------------------------------------------------
    async def _read(self, statement: Statement[T]) -> T:
        tx = self._scope.current()
        if tx is not None:
            return await statement(tx.conn)
        async with self._pool.connection() as conn:
            return await statement(conn)

    async def _write(self, statement: Statement[T]) -> T:
        tx = self._scope.current()
        if tx is not None:
            return await statement(tx.conn)
        lock, pool = self._scope.writer_lock(), self._pool
        async with lock, pool.connection() as conn, conn.transaction():
            await conn.execute(_LOCK, self._lock_args)
            return await statement(conn)

    # -- transactions ----------------------------------------------------------------------
    async def _begin(self) -> _Tx:
        conn = await self._pool.getconn()
        tx = _Tx(conn)
        try:
            await conn.execute("BEGIN")
            await conn.execute(_LOCK, self._lock_args)
        except BaseException:
            await self._release(tx)  # the pool rolls back what is open
            raise
        return tx

    async def _commit(self, tx: _Tx) -> None:
        await tx.conn.execute("COMMIT")
        await self._release(tx)

    async def _rollback(self, tx: _Tx) -> None:
        """Never hides the error that caused it: a ROLLBACK that fails (the connection is
        gone, and the server rolled back with it) only hands the connection back."""
        try:
            if not tx.released and not tx.conn.closed:
                await tx.conn.execute("ROLLBACK")
        except psycopg.Error:
            pass
        finally:
            await self._release(tx)

    async def _release(self, tx: _Tx) -> None:
        if not tx.released:
            tx.released = True
            await self._pool.putconn(tx.conn)

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return self._scope.transaction()

    # -- documents -------------------------------------------------------------------------
    async def get(self, kind: str, account: str, key: str) -> Doc | None:
        async def statement(conn: Conn) -> Doc | None:
            cur = await conn.execute(
                "SELECT doc FROM store_documents WHERE kind=%s AND account=%s AND key=%s",
                (kind, account, key),
            )
            row = await cur.fetchone()
            return None if row is None else _doc(row[0])

        return await self._read(statement)

    async def put(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> None:
        text = json.dumps(doc, separators=(",", ":"))

        async def statement(conn: Conn) -> None:
            await conn.execute(
                "INSERT INTO store_documents (kind, account, key, parent, doc) "
                "VALUES (%s, %s, %s, %s, %s::json) ON CONFLICT (kind, account, key) "
                "DO UPDATE SET doc = excluded.doc, parent = excluded.parent",
                (kind, account, key, parent, text),
            )

        await self._write(statement)

    async def insert(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> bool:
        text = json.dumps(doc, separators=(",", ":"))

        async def statement(conn: Conn) -> bool:
            cur = await conn.execute(
                "INSERT INTO store_documents (kind, account, key, parent, doc) "
                "VALUES (%s, %s, %s, %s, %s::json) ON CONFLICT (kind, account, key) DO NOTHING",
                (kind, account, key, parent, text),
            )
            return cur.rowcount == 1

        return await self._write(statement)

    async def delete(self, kind: str, account: str, key: str) -> bool:
        async def statement(conn: Conn) -> bool:
            cur = await conn.execute(
                "DELETE FROM store_documents WHERE kind=%s AND account=%s AND key=%s",
                (kind, account, key),
            )
            return cur.rowcount > 0

        return await self._write(statement)

    async def delete_children(self, kind: str, account: str, parent: str) -> int:
        async def statement(conn: Conn) -> int:
            cur = await conn.execute(
                "DELETE FROM store_documents WHERE kind=%s AND account=%s AND parent=%s",
                (kind, account, parent),
            )
            return max(cur.rowcount, 0)

        return await self._write(statement)

    async def list(
        self,
        kind: str,
        account: str,
        *,
        parent: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> Rows:
        sql: LiteralString = "SELECT key, doc FROM store_documents WHERE kind=%s AND account=%s"
        args: list[object] = [kind, account]
        if parent is not None:
            sql += " AND parent=%s"
            args.append(parent)
        if after is not None:
            sql += " AND key>%s"
            args.append(after)
        sql += " ORDER BY key"
        if limit is not None:
            sql += " LIMIT %s"
            args.append(limit)

        async def statement(conn: Conn) -> Rows:
            cur = await conn.execute(sql, args)
            return [Row(key, _doc(doc)) for key, doc in await cur.fetchall()]

        return await self._read(statement)

    async def scan(self, kind: str) -> Scanned:
        async def statement(conn: Conn) -> Scanned:
            cur = await conn.execute(
                "SELECT account, key, doc FROM store_documents WHERE kind=%s ORDER BY account, key",
                (kind,),
            )
            return [(account, Row(key, _doc(doc))) for account, key, doc in await cur.fetchall()]

        return await self._read(statement)

    async def checkpoint(self) -> None:
        """Reclaim the dead row versions a rewrite left (VACUUM; PostgreSQL's WAL is its own
        to recycle)."""
        async with self._pool.connection() as conn:
            await conn.execute("VACUUM store_documents")

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._pool.close()


def _doc(value: object) -> Doc:
    """psycopg decodes `json` into new objects on every read: the caller's own copy."""
    if not isinstance(value, dict):
        raise TypeError(f"a stored document is a JSON object, got {type(value).__name__}")
    return value
