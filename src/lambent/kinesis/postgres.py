"""The stream service on PostgreSQL (`--database`): one set of tables for every node.

Tables `kinesis_streams`, `kinesis_shards`, `kinesis_records` (component `kinesis`). An
append is one transaction: `UPDATE kinesis_shards SET next_pos = next_pos + n RETURNING`
takes each shard's row lock (shards in index order, so appends never deadlock) and
reserves its positions, then one multi-row INSERT (COPY for large batches) stores the
records. Two nodes appending to one shard therefore serialise on that row only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from lambent.kinesis import rows
from lambent.kinesis.model import NewRecord, StoredRecord, StreamRecord
from lambent.pg.connect import CONNECT_TIMEOUT_S, open_pool
from lambent.pg.migrations import Migration, migrate

Pool = AsyncConnectionPool[AsyncConnection[tuple[Any, ...]]]
COMPONENT = "kinesis"
MIGRATIONS = [
    Migration(
        1,
        """
CREATE TABLE kinesis_streams (
    id text PRIMARY KEY,
    account text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    doc text NOT NULL,
    UNIQUE (account, name)
);
CREATE TABLE kinesis_shards (
    stream_id text NOT NULL,
    shard integer NOT NULL,
    next_pos bigint NOT NULL,
    PRIMARY KEY (stream_id, shard)
);
CREATE TABLE kinesis_records (
    stream_id text NOT NULL,
    shard integer NOT NULL,
    position bigint NOT NULL,
    partition_key text NOT NULL,
    data bytea NOT NULL,
    arrival_ms bigint NOT NULL,
    PRIMARY KEY (stream_id, shard, position)
);
""",
    ),
    Migration(
        2,
        """
CREATE TABLE kinesis_checkpoints (
    mapping text NOT NULL,
    stream_id text NOT NULL,
    shard integer NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (mapping, stream_id, shard)
);
""",
    ),
]


class PgStreams:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 2) -> PgStreams:
        pool = await open_pool(
            url, name="kinesis", min_size=1, max_size=pool_size, timeout_s=CONNECT_TIMEOUT_S
        )
        try:
            await migrate(pool, COMPONENT, MIGRATIONS)
        except BaseException:
            await pool.close()
            raise
        return cls(pool)

    async def _one(self, sql: Any, args: Sequence[Any]) -> tuple[Any, ...] | None:
        async with self._pool.connection() as conn:
            return await (await conn.execute(sql, args)).fetchone()

    async def _all(self, sql: Any, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        async with self._pool.connection() as conn:
            return await (await conn.execute(sql, args)).fetchall()

    async def create_stream(self, record: StreamRecord) -> bool:
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO kinesis_streams VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (record.id, record.account, record.name, rows.stream_doc(record)),
            )
            if cur.rowcount == 0:
                return False
            await conn.execute(
                "INSERT INTO kinesis_shards SELECT %s, g, 0 FROM generate_series(0, %s) g",
                (record.id, record.shard_count - 1),
            )
            return True

    async def get_stream(self, account: str, name: str) -> StreamRecord | None:
        row = await self._one(
            "SELECT id, doc FROM kinesis_streams WHERE account = %s AND name = %s",
            (account, name),
        )
        return None if row is None else rows.stream_of(row[0], account, name, row[1])

    async def list_streams(self, account: str, after: str, limit: int) -> list[StreamRecord]:
        found = await self._all(
            "SELECT id, name, doc FROM kinesis_streams WHERE account = %s AND name > %s "
            "ORDER BY name LIMIT %s",
            (account, after, limit),
        )
        return [rows.stream_of(i, account, n, d) for i, n, d in found]

    async def set_retention(self, stream_id: str, hours: int) -> bool:
        async with self._pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    "SELECT doc FROM kinesis_streams WHERE id = %s FOR UPDATE", (stream_id,)
                )
            ).fetchone()
            if row is None:
                return False
            await conn.execute(
                "UPDATE kinesis_streams SET doc = %s WHERE id = %s",
                (rows.with_retention(row[0], hours), stream_id),
            )
            return True

    async def delete_stream(self, stream_id: str) -> bool:
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute("DELETE FROM kinesis_streams WHERE id = %s", (stream_id,))
            await conn.execute("DELETE FROM kinesis_shards WHERE stream_id = %s", (stream_id,))
            await conn.execute("DELETE FROM kinesis_records WHERE stream_id = %s", (stream_id,))
            return cur.rowcount > 0

    async def append(self, stream_id: str, records: Sequence[NewRecord]) -> list[int]:
        counts: dict[int, int] = {}
        for r in records:
            counts[r.shard] = counts.get(r.shard, 0) + 1
        async with self._pool.connection() as conn, conn.transaction():
            nexts: dict[int, int] = {}
            for shard in sorted(counts):
                row = await (
                    await conn.execute(
                        "UPDATE kinesis_shards SET next_pos = next_pos + %s "
                        "WHERE stream_id = %s AND shard = %s RETURNING next_pos",
                        (counts[shard], stream_id, shard),
                    )
                ).fetchone()
                if row is None:
                    raise KeyError(stream_id)
                nexts[shard] = int(row[0]) - counts[shard]
            positions: list[int] = []
            for r in records:
                positions.append(nexts[r.shard])
                nexts[r.shard] += 1
            async with conn.cursor().copy(
                "COPY kinesis_records (stream_id, shard, position, partition_key, data, "
                "arrival_ms) FROM STDIN"
            ) as copy:
                for r, p in zip(records, positions, strict=True):
                    await copy.write_row(
                        (stream_id, r.shard, p, r.partition_key, r.data, r.arrival_ms)
                    )
            return positions

    async def read(
        self, stream_id: str, shard: int, position: int, limit: int, since_ms: int
    ) -> list[StoredRecord]:
        found = await self._all(
            "SELECT position, partition_key, data, arrival_ms FROM kinesis_records "
            "WHERE stream_id = %s AND shard = %s AND position >= %s AND arrival_ms >= %s "
            "ORDER BY position LIMIT %s",
            (stream_id, shard, position, since_ms, limit),
        )
        return [rows.stored(shard, r) for r in found]

    async def end(self, stream_id: str, shard: int) -> int:
        row = await self._one(
            "SELECT next_pos FROM kinesis_shards WHERE stream_id = %s AND shard = %s",
            (stream_id, shard),
        )
        return 0 if row is None else int(row[0])

    async def position_at(self, stream_id: str, shard: int, at_ms: int) -> int:
        row = await self._one(
            "SELECT min(position) FROM kinesis_records "
            "WHERE stream_id = %s AND shard = %s AND arrival_ms >= %s",
            (stream_id, shard, at_ms),
        )
        if row is None or row[0] is None:
            return await self.end(stream_id, shard)
        return int(row[0])

    async def trim(self, stream_id: str, before_ms: int) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "DELETE FROM kinesis_records WHERE stream_id = %s AND arrival_ms < %s",
                (stream_id, before_ms),
            )
            return cur.rowcount

    async def get_checkpoint(self, mapping: str, stream_id: str, shard: int) -> int | None:
        row = await self._one(
            "SELECT position FROM kinesis_checkpoints "
            "WHERE mapping = %s AND stream_id = %s AND shard = %s",
            (mapping, stream_id, shard),
        )
        return None if row is None else int(row[0])

    async def set_checkpoint(self, mapping: str, stream_id: str, shard: int, position: int) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO kinesis_checkpoints VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (mapping, stream_id, shard) "
                "DO UPDATE SET position = EXCLUDED.position",
                (mapping, stream_id, shard, position),
            )

    async def close(self) -> None:
        await self._pool.close()
