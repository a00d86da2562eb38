"""The stream service on SQLite: its own file (`DATA/kinesis.db`), WAL, group commit.

Every statement runs on one writer thread (async_invoke/group_commit.py), so concurrent
PutRecords share a transaction and its fsync; appends are acknowledged after a FULL commit.
A shard's next position lives in `kinesis_shards` and is bumped in the append's
transaction, so positions are dense and ordered per shard."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lambent.async_invoke.group_commit import GroupCommitWriter
from lambent.kinesis import rows
from lambent.kinesis.model import NewRecord, StoredRecord, StreamRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS kinesis_streams (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (account, name)
);
CREATE TABLE IF NOT EXISTS kinesis_shards (
    stream_id TEXT NOT NULL,
    shard INTEGER NOT NULL,
    next_pos INTEGER NOT NULL,
    PRIMARY KEY (stream_id, shard)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kinesis_records (
    stream_id TEXT NOT NULL,
    shard INTEGER NOT NULL,
    position INTEGER NOT NULL,
    partition_key TEXT NOT NULL,
    data BLOB NOT NULL,
    arrival_ms INTEGER NOT NULL,
    PRIMARY KEY (stream_id, shard, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kinesis_checkpoints (
    mapping TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    shard INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (mapping, stream_id, shard)
) WITHOUT ROWID;
"""


def _setup(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


class SqliteStreams:
    def __init__(self, path: Path) -> None:
        self._writer = GroupCommitWriter(path, _setup)

    async def create_stream(self, record: StreamRecord) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "INSERT OR IGNORE INTO kinesis_streams VALUES (?, ?, ?, ?)",
                (record.id, record.account, record.name, rows.stream_doc(record)),
            )
            if cur.rowcount == 0:
                return False
            conn.executemany(
                "INSERT INTO kinesis_shards VALUES (?, ?, 0)",
                [(record.id, i) for i in range(record.shard_count)],
            )
            return True

        return await self._writer.run(work)

    async def get_stream(self, account: str, name: str) -> StreamRecord | None:
        def work(conn: sqlite3.Connection) -> Any:
            return conn.execute(
                "SELECT id, doc FROM kinesis_streams WHERE account = ? AND name = ?",
                (account, name),
            ).fetchone()

        row = await self._writer.run(work, durable=False)
        return None if row is None else rows.stream_of(row[0], account, name, row[1])

    async def list_streams(self, account: str, after: str, limit: int) -> list[StreamRecord]:
        def work(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(
                "SELECT id, name, doc FROM kinesis_streams WHERE account = ? AND name > ? "
                "ORDER BY name LIMIT ?",
                (account, after, limit),
            ).fetchall()

        found = await self._writer.run(work, durable=False)
        return [rows.stream_of(i, account, n, d) for i, n, d in found]

    async def set_retention(self, stream_id: str, hours: int) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT doc FROM kinesis_streams WHERE id = ?", (stream_id,)
            ).fetchone()
            if row is None:
                return False
            doc = rows.with_retention(row[0], hours)
            conn.execute("UPDATE kinesis_streams SET doc = ? WHERE id = ?", (doc, stream_id))
            return True

        return await self._writer.run(work)

    async def delete_stream(self, stream_id: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cur = conn.execute("DELETE FROM kinesis_streams WHERE id = ?", (stream_id,))
            conn.execute("DELETE FROM kinesis_shards WHERE stream_id = ?", (stream_id,))
            conn.execute("DELETE FROM kinesis_records WHERE stream_id = ?", (stream_id,))
            return cur.rowcount > 0

        return await self._writer.run(work)

    async def append(self, stream_id: str, records: Sequence[NewRecord]) -> list[int]:
        shards = sorted({r.shard for r in records})

        def work(conn: sqlite3.Connection) -> list[int]:
            nexts: dict[int, int] = {}
            for shard in shards:
                row = conn.execute(
                    "SELECT next_pos FROM kinesis_shards WHERE stream_id = ? AND shard = ?",
                    (stream_id, shard),
                ).fetchone()
                if row is None:
                    raise KeyError(stream_id)
                nexts[shard] = int(row[0])
            positions: list[int] = []
            for r in records:
                positions.append(nexts[r.shard])
                nexts[r.shard] += 1
            conn.executemany(
                "INSERT INTO kinesis_records VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (stream_id, r.shard, p, r.partition_key, r.data, r.arrival_ms)
                    for r, p in zip(records, positions, strict=True)
                ],
            )
            conn.executemany(
                "UPDATE kinesis_shards SET next_pos = ? WHERE stream_id = ? AND shard = ?",
                [(n, stream_id, s) for s, n in nexts.items()],
            )
            return positions

        return await self._writer.run(work)

    async def read(
        self, stream_id: str, shard: int, position: int, limit: int, since_ms: int
    ) -> list[StoredRecord]:
        def work(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(
                "SELECT position, partition_key, data, arrival_ms FROM kinesis_records "
                "WHERE stream_id = ? AND shard = ? AND position >= ? AND arrival_ms >= ? "
                "ORDER BY position LIMIT ?",
                (stream_id, shard, position, since_ms, limit),
            ).fetchall()

        return [rows.stored(shard, r) for r in await self._writer.run(work, durable=False)]

    async def end(self, stream_id: str, shard: int) -> int:
        def work(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT next_pos FROM kinesis_shards WHERE stream_id = ? AND shard = ?",
                (stream_id, shard),
            ).fetchone()
            return 0 if row is None else int(row[0])

        return await self._writer.run(work, durable=False)

    async def position_at(self, stream_id: str, shard: int, at_ms: int) -> int:
        def work(conn: sqlite3.Connection) -> Any:
            return conn.execute(
                "SELECT min(position) FROM kinesis_records "
                "WHERE stream_id = ? AND shard = ? AND arrival_ms >= ?",
                (stream_id, shard, at_ms),
            ).fetchone()

        row = await self._writer.run(work, durable=False)
        if row is None or row[0] is None:
            return await self.end(stream_id, shard)
        return int(row[0])

    async def trim(self, stream_id: str, before_ms: int) -> int:
        def work(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "DELETE FROM kinesis_records WHERE stream_id = ? AND arrival_ms < ?",
                (stream_id, before_ms),
            )
            return cur.rowcount

        return await self._writer.run(work)

    async def get_checkpoint(self, mapping: str, stream_id: str, shard: int) -> int | None:
        def work(conn: sqlite3.Connection) -> Any:
            return conn.execute(
                "SELECT position FROM kinesis_checkpoints "
                "WHERE mapping = ? AND stream_id = ? AND shard = ?",
                (mapping, stream_id, shard),
            ).fetchone()

        row = await self._writer.run(work, durable=False)
        return None if row is None else int(row[0])

    async def set_checkpoint(self, mapping: str, stream_id: str, shard: int, position: int) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO kinesis_checkpoints VALUES (?, ?, ?, ?)",
                (mapping, stream_id, shard, position),
            )

        await self._writer.run(work)

    async def close(self) -> None:
        self._writer.close()
