"""Blobs in PostgreSQL, in 1 MiB chunks: the code and S3 bytes every node of a cluster shares.

`blobs` holds one row per (namespace, sha256) with its size, chunk size and reference
count; `blob_chunks` holds its bytes. A put inserts the row and all its chunks in one
transaction, so a reader (another node, or this one after a crash mid-write) sees the whole
blob or none of it. Two nodes putting the same content at once meet on the row's primary
key: the second waits for the first to commit and then finds it stored. A read is a single
statement (one snapshot) streamed through a server-side cursor, so a blob removed meanwhile
is read whole or not at all, and a 50 MB zip never sits twice in libpq's memory.

Namespaces keep code and S3 content apart: code blobs are kept forever, S3 content is
reference-counted (`pin`/`unpin`), and the same zip may be both.

Every method blocks: the pool is psycopg's synchronous one, used only from the App's
blocking pool, so no chunk of a blob ever crosses the event loop. The tables are created
through the shared async foundation (`open_pool` + `migrate`, component "blobs").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import LiteralString, cast

from psycopg import Connection
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

from lambent.blobs.interface import CHUNK_SIZE, BlobMissing, chunks
from lambent.pg.connect import CONNECT_TIMEOUT_S, IDLE_CLOSE_S, open_pool
from lambent.pg.migrations import Migration, migrate

COMPONENT = "blobs"
CODE = "code"  # function and layer zips, kept forever
S3 = "s3"  # S3 object and part bytes, counted by reference

STEPS = [
    Migration(
        1,
        """
        CREATE TABLE blobs (
            namespace text NOT NULL,
            sha256 text NOT NULL,
            size bigint NOT NULL,
            chunk_size integer NOT NULL,
            refs bigint NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (namespace, sha256)
        );
        CREATE TABLE blob_chunks (
            namespace text NOT NULL,
            sha256 text NOT NULL,
            seq integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (namespace, sha256, seq),
            FOREIGN KEY (namespace, sha256) REFERENCES blobs ON DELETE CASCADE
        );
        -- zips and most objects are compressed already: store chunks as they are
        ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
        """,
    )
]

Conn = Connection[tuple[object, ...]]
Pool = ConnectionPool[Conn]

_INSERT_BLOB: LiteralString = (
    "INSERT INTO blobs (namespace, sha256, size, chunk_size, refs) VALUES (%s, %s, %s, %s, %s)"
    " ON CONFLICT DO NOTHING RETURNING 1"
)
_INSERT_CHUNK: LiteralString = (
    "INSERT INTO blob_chunks (namespace, sha256, seq, data) VALUES (%s, %s, %s, %b)"
)
_DELETE: LiteralString = "DELETE FROM blobs WHERE namespace = %s AND sha256 = %s"  # and chunks
# One statement, so one snapshot: the chunks of `start`..`end` (end NULL: to the last).
_READ: LiteralString = """
    SELECT b.chunk_size, c.seq, c.data
    FROM blobs b JOIN blob_chunks c USING (namespace, sha256)
    WHERE b.namespace = %(ns)s AND b.sha256 = %(sha)s
      AND c.seq >= %(start)s / b.chunk_size
      AND (%(end)s::bigint IS NULL OR c.seq <= %(end)s::bigint / b.chunk_size)
    ORDER BY c.seq
"""


async def migrate_schema(url: str) -> list[int]:
    """Create or upgrade the blob tables (at start, before the blocking pool is used)."""
    pool = await open_pool(url, name="blobs-migrate", min_size=1, max_size=1)
    try:
        return await migrate(pool, COMPONENT, STEPS)
    finally:
        await pool.close()


def open_blocking_pool(url: str, *, max_size: int = 2, timeout_s: float = 10.0) -> Pool:
    """An open pool of autocommit connections for the blocking pool's threads (blocks)."""
    pool: Pool = ConnectionPool(
        url,
        name="lambent-blobs",
        min_size=1,
        max_size=max_size,
        timeout=timeout_s,
        check=ConnectionPool.check_connection,  # after a database restart: a new one
        open=False,
        kwargs={
            "autocommit": True,
            "row_factory": tuple_row,
            "connect_timeout": int(CONNECT_TIMEOUT_S),
            "application_name": "lambent-blobs",
        },
        reconnect_timeout=3600.0,
        max_idle=IDLE_CLOSE_S,
    )
    pool.open(wait=True, timeout=timeout_s)
    return pool


class PgBlobs:
    """The `Blobs` of one namespace, on a blocking pool that many namespaces may share."""

    def __init__(self, pool: Pool, namespace: str) -> None:
        self._pool = pool
        self._ns = namespace

    def _pieces(self, data: bytes) -> Iterator[memoryview]:
        """The chunks a put writes (a seam for tests that fail a write half-way)."""
        return chunks(data, CHUNK_SIZE)

    def exists(self, sha256: str) -> bool:
        with self._pool.connection() as conn:
            cur = conn.execute(
                "SELECT 1 FROM blobs WHERE namespace = %s AND sha256 = %s", (self._ns, sha256)
            )
            return cur.fetchone() is not None

    def put(self, sha256: str, data: bytes) -> bool:
        if self.exists(sha256):  # the common case costs a lookup, not a 50 MB upload
            return False
        with self._pool.connection() as conn, conn.transaction():
            return self._insert(conn, sha256, data, refs=0)

    def _insert(
        self, conn: Connection[tuple[object, ...]], sha: str, data: bytes, refs: int
    ) -> bool:
        """Inside the caller's transaction: the row, then every chunk. False if another
        writer's row is there (this waits for its commit; its rollback lets us insert)."""
        row = conn.execute(_INSERT_BLOB, (self._ns, sha, len(data), CHUNK_SIZE, refs)).fetchone()
        if row is None:
            return False
        with conn.cursor() as cur:
            cur.executemany(
                _INSERT_CHUNK,
                ((self._ns, sha, seq, piece) for seq, piece in enumerate(self._pieces(data))),
            )
        return True

    def get(self, sha256: str) -> bytes:
        return self.read(sha256)

    def read(self, sha256: str, start: int = 0, length: int | None = None) -> bytes:
        if length is not None and length <= 0:
            if not self.exists(sha256):
                raise BlobMissing(sha256)
            return b""
        end = None if length is None else start + length - 1
        params = {"ns": self._ns, "sha": sha256, "start": start, "end": end}
        pieces: list[bytes] = []
        chunk_size = first = -1
        with (
            self._pool.connection() as conn,
            conn.transaction(),
            conn.cursor(name="lambent_blob_read", binary=True) as cur,
        ):
            cur.itersize = 4  # chunks held at once while streaming
            cur.execute(_READ, params)
            for chunk_size_, seq, data in cur:
                if first < 0:
                    chunk_size, first = cast(int, chunk_size_), cast(int, seq)
                pieces.append(cast(bytes, data))
        if first < 0:
            if not self.exists(sha256):
                raise BlobMissing(sha256)
            return b""  # a range past the end
        return _slice(pieces, start - first * chunk_size, length)

    def remove(self, sha256: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(_DELETE, (self._ns, sha256))

    # -- reference counts (S3 content) ---------------------------------------------------
    def pin(self, sha256: str, data: bytes | None) -> None:
        """One more reference, in one transaction with the blob's existence: stores `data`
        if the blob is gone (removed by a last unpin meanwhile); BlobMissing if it is gone
        and `data` is None."""
        with self._pool.connection() as conn, conn.transaction():
            if self._count(conn, sha256, +1) is not None:
                return
            if data is None:
                raise BlobMissing(sha256)
            if not self._insert(conn, sha256, data, refs=1):
                self._count(conn, sha256, +1)  # another writer stored it first

    def unpin(self, sha256: str) -> bool:
        """One reference fewer; the blob goes with its last one (True then)."""
        with self._pool.connection() as conn, conn.transaction():
            refs = self._count(conn, sha256, -1)
            if refs is None or refs > 0:
                return False
            conn.execute(_DELETE, (self._ns, sha256))
            return True

    def refs(self, sha256: str) -> int | None:
        """The reference count (None: no such blob)."""
        with self._pool.connection() as conn:
            cur = conn.execute(
                "SELECT refs FROM blobs WHERE namespace = %s AND sha256 = %s", (self._ns, sha256)
            )
            row = cur.fetchone()
            return None if row is None else cast(int, row[0])

    def _count(self, conn: Conn, sha: str, delta: int) -> int | None:
        row = conn.execute(
            "UPDATE blobs SET refs = refs + %s WHERE namespace = %s AND sha256 = %s RETURNING refs",
            (delta, self._ns, sha),
        ).fetchone()
        return None if row is None else cast(int, row[0])


def _slice(pieces: list[bytes], offset: int, length: int | None) -> bytes:
    """`length` bytes (None: to the end) from `offset` into the joined pieces."""
    whole = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    stop = len(whole) if length is None else min(len(whole), offset + length)
    if offset == 0 and stop == len(whole):
        return whole
    return whole[offset:stop]
