"""The queue service on PostgreSQL (`--database`): one set of tables for every node.

Tables `sqs_queues`, `sqs_deleted`, `sqs_messages`, `sqs_dedup` (component `sqs`). A send
is one transaction (the queue row locked FOR SHARE so a concurrent delete waits, the rows
in one multi-row INSERT) that NOTIFYs the schema's channel `NODE QUEUE_ID` before it
commits; every other node LISTENs (async_invoke/pg_wakeups.py) and wakes that queue's
long-polling receives and pollers. A standard queue's receive claims with
`FOR UPDATE SKIP LOCKED`, so receives on any node take disjoint messages without waiting
on one another; a FIFO queue's receive first takes a transaction-scoped advisory lock on
the queue, so two receives never both see a group as free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, LiteralString

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from lambent.async_invoke.pg_wakeups import Wakeups
from lambent.pg.connect import CONNECT_TIMEOUT_S, open_pool
from lambent.pg.migrations import Migration, migrate
from lambent.sqs import rows
from lambent.sqs.backend import Dedup
from lambent.sqs.errors import QueueDoesNotExist
from lambent.sqs.model import (
    Claim,
    Claimed,
    Counts,
    NewMessage,
    QueueRecord,
    Redrive,
    Sent,
    StoredMessage,
    VisibilityResult,
)

Pool = AsyncConnectionPool[AsyncConnection[tuple[Any, ...]]]
Conn = AsyncConnection[tuple[Any, ...]]
COMPONENT = "sqs"
MIGRATIONS = [
    Migration(
        1,
        """
CREATE TABLE sqs_queues (
    id text PRIMARY KEY,
    account text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    doc text NOT NULL,
    UNIQUE (account, name)
);
CREATE TABLE sqs_deleted (
    account text NOT NULL,
    name text NOT NULL,
    deleted_ms bigint NOT NULL,
    PRIMARY KEY (account, name)
);
CREATE TABLE sqs_messages (
    seq bigserial PRIMARY KEY,
    queue_id text NOT NULL,
    message_id text NOT NULL,
    body text NOT NULL,
    attributes text NOT NULL,
    md5_body text NOT NULL,
    md5_attributes text NOT NULL,
    system text NOT NULL,
    group_id text,
    dedup_id text,
    sent_ms bigint NOT NULL,
    visible_at_ms bigint NOT NULL,
    expires_ms bigint NOT NULL,
    receive_count integer NOT NULL DEFAULT 0,
    first_receive_ms bigint NOT NULL DEFAULT 0,
    received_ms bigint NOT NULL DEFAULT 0,
    receipt text NOT NULL DEFAULT ''
);
CREATE INDEX sqs_messages_visible ON sqs_messages (queue_id, visible_at_ms, seq);
CREATE INDEX sqs_messages_order ON sqs_messages (queue_id, seq);
CREATE INDEX sqs_messages_expiry ON sqs_messages (expires_ms);
CREATE TABLE sqs_dedup (
    queue_id text NOT NULL,
    scope text NOT NULL,
    dedup_id text NOT NULL,
    message_id text NOT NULL,
    seq bigint NOT NULL,
    until_ms bigint NOT NULL,
    PRIMARY KEY (queue_id, scope, dedup_id)
);
""",
    )
]

_COLS: LiteralString = (
    "seq, message_id, body, attributes, md5_body, md5_attributes, system, group_id, "
    "dedup_id, sent_ms, receive_count, first_receive_ms"
)
_CANDIDATES: LiteralString = (
    f"SELECT {_COLS} FROM sqs_messages WHERE queue_id = %s AND visible_at_ms <= %s "
    "AND expires_ms > %s ORDER BY visible_at_ms, seq LIMIT %s FOR UPDATE SKIP LOCKED"
)
_FIFO_CANDIDATES: LiteralString = (
    f"SELECT {_COLS} FROM sqs_messages WHERE queue_id = %s AND visible_at_ms <= %s "
    "AND expires_ms > %s AND group_id NOT IN (SELECT group_id FROM sqs_messages WHERE "
    "queue_id = %s AND visible_at_ms > %s AND receive_count > 0 AND group_id IS NOT NULL) "
    "ORDER BY seq LIMIT %s FOR UPDATE"
)
_CLAIM: LiteralString = (
    "UPDATE sqs_messages m SET visible_at_ms = %s, receive_count = receive_count + 1, "
    "first_receive_ms = CASE first_receive_ms WHEN 0 THEN %s ELSE first_receive_ms END, "
    "received_ms = %s, receipt = t.r FROM unnest(%s::bigint[], %s::text[]) AS t(s, r) "
    "WHERE m.seq = t.s"
)
_COUNTS: LiteralString = (
    "count(*) FILTER (WHERE visible_at_ms <= %s AND expires_ms > %s), "
    "count(*) FILTER (WHERE visible_at_ms > %s AND receive_count > 0), "
    "count(*) FILTER (WHERE visible_at_ms > %s AND receive_count = 0)"
)


def channel_for(schema: str) -> str:
    return f"lambent_sqs:{schema}"[:63]


class PgQueues:
    def __init__(self, pool: Pool, url: str, node_id: str, channel: str) -> None:
        self._pool = pool
        self._node = node_id
        self._channel = channel
        self._wake: list[Callable[[str], None]] = []
        self.wakeups = Wakeups(
            url, channel, node_id, self._wake_all, on_payload=self._remote, name="sqs-listen"
        )

    @classmethod
    async def open(cls, url: str, *, node_id: str, pool_size: int = 2) -> PgQueues:
        pool = await open_pool(
            url, name="sqs", min_size=1, max_size=pool_size, timeout_s=CONNECT_TIMEOUT_S
        )
        try:
            await migrate(pool, COMPONENT, MIGRATIONS)
            async with pool.connection() as conn:
                row = await (await conn.execute("SELECT current_schema()")).fetchone()
            queues = cls(pool, url, node_id, channel_for(str(row[0]) if row else "public"))
            await queues.wakeups.start()
        except BaseException:
            await pool.close()
            raise
        return queues

    # -- wake-ups ------------------------------------------------------------------------
    def on_remote_send(self, wake: Callable[[str], None]) -> None:
        self._wake.append(wake)

    def _remote(self, queue_id: str) -> None:
        for wake in self._wake:
            wake(queue_id)

    def _wake_all(self) -> None:
        """A (re)connection: notifications sent while nobody listened are gone."""
        for wake in self._wake:
            wake("*")

    # -- queues --------------------------------------------------------------------------
    async def _one(self, sql: LiteralString, args: Sequence[Any]) -> tuple[Any, ...] | None:
        async with self._pool.connection() as conn:
            return await (await conn.execute(sql, args)).fetchone()

    async def create_queue(self, record: QueueRecord) -> QueueRecord:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO sqs_queues (id, account, name, doc) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (account, name) DO NOTHING",
                (record.id, record.account, record.name, rows.queue_doc(record)),
            )
        found = await self.get_queue(record.account, record.name)
        if found is None:  # deleted at once by another node
            raise QueueDoesNotExist()
        return found

    async def get_queue(self, account: str, name: str) -> QueueRecord | None:
        row = await self._one(
            "SELECT id, account, name, doc FROM sqs_queues WHERE account = %s AND name = %s",
            (account, name),
        )
        return None if row is None else rows.queue_from(*row)

    async def get_queue_by_id(self, queue_id: str) -> QueueRecord | None:
        row = await self._one(
            "SELECT id, account, name, doc FROM sqs_queues WHERE id = %s", (queue_id,)
        )
        return None if row is None else rows.queue_from(*row)

    async def list_queues(
        self, account: str | None, prefix: str, after: str, limit: int
    ) -> list[QueueRecord]:
        async with self._pool.connection() as conn:
            if account is None:
                cur = await conn.execute(
                    "SELECT id, account, name, doc FROM sqs_queues ORDER BY account, name LIMIT %s",
                    (limit,),
                )
            else:
                cur = await conn.execute(
                    "SELECT id, account, name, doc FROM sqs_queues WHERE account = %s "
                    "AND name > %s AND left(name, %s) = %s ORDER BY name LIMIT %s",
                    (account, after, len(prefix), prefix, limit),
                )
            return [rows.queue_from(*row) for row in await cur.fetchall()]

    async def update_queue(self, record: QueueRecord) -> bool:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE sqs_queues SET doc = %s WHERE id = %s", (rows.queue_doc(record), record.id)
            )
            return cur.rowcount > 0

    async def delete_queue(self, queue_id: str, now_ms: int) -> bool:
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "DELETE FROM sqs_queues WHERE id = %s RETURNING account, name", (queue_id,)
            )
            found = await cur.fetchone()
            if found is None:
                return False
            await conn.execute("DELETE FROM sqs_messages WHERE queue_id = %s", (queue_id,))
            await conn.execute("DELETE FROM sqs_dedup WHERE queue_id = %s", (queue_id,))
            await conn.execute(
                "INSERT INTO sqs_deleted VALUES (%s, %s, %s) ON CONFLICT (account, name) "
                "DO UPDATE SET deleted_ms = EXCLUDED.deleted_ms",
                (*found, now_ms),
            )
            return True

    async def deleted_at(self, account: str, name: str) -> int | None:
        row = await self._one(
            "SELECT deleted_ms FROM sqs_deleted WHERE account = %s AND name = %s", (account, name)
        )
        return None if row is None else int(row[0])

    # -- messages ------------------------------------------------------------------------
    async def send(
        self, queue_id: str, messages: Sequence[NewMessage], dedup: Dedup | None
    ) -> list[Sent]:
        if not messages:
            return []
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT 1 FROM sqs_queues WHERE id = %s FOR SHARE", (queue_id,)
            )
            if await cur.fetchone() is None:
                raise QueueDoesNotExist()
            if dedup is None:
                sent = await _insert(conn, queue_id, messages)
            else:
                sent = [await _send_fifo(conn, queue_id, m, dedup) for m in messages]
            if any(not s.duplicate for s in sent):
                await conn.execute(
                    "SELECT pg_notify(%s, %s)", (self._channel, f"{self._node} {queue_id}")
                )
            return sent

    async def claim(self, claim: Claim) -> Claimed:
        async with self._pool.connection() as conn, conn.transaction():
            if claim.fifo:
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", ("sqs:" + claim.queue_id,)
                )
            out, moved = await _claim(conn, claim)
            row = await (
                await conn.execute(
                    "SELECT min(visible_at_ms) FROM sqs_messages WHERE queue_id = %s "
                    "AND visible_at_ms > %s",
                    (claim.queue_id, claim.now_ms),
                )
            ).fetchone()
        following = None if row is None or row[0] is None else int(row[0])
        return Claimed(out, moved, following)

    async def delete_messages(self, queue_id: str, receipts: Sequence[tuple[int, str]]) -> None:
        if not receipts:
            return
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM sqs_messages WHERE queue_id = %s AND (seq, receipt) IN "
                "(SELECT * FROM unnest(%s::bigint[], %s::text[]))",
                (queue_id, [s for s, _ in receipts], [r for _, r in receipts]),
            )

    async def change_visibility(
        self,
        queue_id: str,
        changes: Sequence[tuple[int, str, int]],
        now_ms: int,
        max_total_ms: int,
    ) -> list[str]:
        out: list[str] = []
        async with self._pool.connection() as conn, conn.transaction():
            for seq, receipt, visible_at in changes:
                row = await (
                    await conn.execute(
                        "SELECT receipt, visible_at_ms, received_ms FROM sqs_messages "
                        "WHERE seq = %s AND queue_id = %s FOR UPDATE",
                        (seq, queue_id),
                    )
                ).fetchone()
                verdict = rows.visibility_verdict(row, receipt, visible_at, now_ms, max_total_ms)
                if verdict == VisibilityResult.CHANGED:
                    await conn.execute(
                        "UPDATE sqs_messages SET visible_at_ms = %s WHERE seq = %s",
                        (visible_at, seq),
                    )
                out.append(verdict)
        if any(v == VisibilityResult.CHANGED for v in out):
            async with self._pool.connection() as conn:
                await conn.execute(
                    "SELECT pg_notify(%s, %s)", (self._channel, f"{self._node} {queue_id}")
                )
        return out

    async def purge(self, queue_id: str) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM sqs_messages WHERE queue_id = %s", (queue_id,))
            return int(cur.rowcount)

    async def counts(self, queue_id: str, now_ms: int) -> Counts:
        row = await self._one(
            "SELECT " + _COUNTS + " FROM sqs_messages WHERE queue_id = %s",
            (*[now_ms] * 4, queue_id),
        )
        assert row is not None
        return Counts(int(row[0]), int(row[1]), int(row[2]))

    async def all_counts(self, now_ms: int) -> dict[str, Counts]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT queue_id, " + _COUNTS + " FROM sqs_messages GROUP BY queue_id",
                [now_ms] * 4,
            )
            return {r[0]: Counts(int(r[1]), int(r[2]), int(r[3])) for r in await cur.fetchall()}

    async def expire(self, now_ms: int) -> int:
        async with self._pool.connection() as conn:
            await conn.execute("DELETE FROM sqs_dedup WHERE until_ms <= %s", (now_ms,))
            cur = await conn.execute("DELETE FROM sqs_messages WHERE expires_ms <= %s", (now_ms,))
            return int(cur.rowcount)

    async def move(self, source_id: str, dest_id: str, limit: int, now_ms: int) -> int:
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "WITH picked AS (DELETE FROM sqs_messages WHERE seq IN (SELECT seq FROM "
                "sqs_messages WHERE queue_id = %s AND visible_at_ms <= %s ORDER BY seq "
                "LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING *) "
                f"INSERT INTO sqs_messages ({rows.INSERT_COLUMNS}) SELECT %s, message_id, body, "
                "attributes, md5_body, md5_attributes, system, group_id, dedup_id, sent_ms, %s, "
                "expires_ms FROM picked ORDER BY seq",
                (source_id, now_ms, limit, dest_id, now_ms),
            )
            count = int(cur.rowcount)
            if count:
                await conn.execute(
                    "SELECT pg_notify(%s, %s)", (self._channel, f"{self._node} {dest_id}")
                )
            return count

    async def close(self) -> None:
        await self.wakeups.close()
        await self._pool.close()


async def _insert(conn: Conn, queue_id: str, messages: Sequence[NewMessage]) -> list[Sent]:
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(messages))
    args = [v for m in messages for v in rows.message_values(queue_id, m)]
    cur = await conn.execute(
        f"INSERT INTO sqs_messages ({rows.INSERT_COLUMNS}) VALUES {values} RETURNING seq",
        args,
    )
    seqs = [int(r[0]) for r in await cur.fetchall()]
    return [Sent(m.message_id, seq) for m, seq in zip(messages, seqs, strict=True)]


async def _send_fifo(conn: Conn, queue_id: str, m: NewMessage, dedup: Dedup) -> Sent:
    scope = (m.group_id or "") if dedup.by_group else ""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("sqs:" + queue_id,))
    if m.dedup_id is not None:
        row = await (
            await conn.execute(
                "SELECT message_id, seq FROM sqs_dedup WHERE queue_id = %s AND scope = %s "
                "AND dedup_id = %s AND until_ms > %s",
                (queue_id, scope, m.dedup_id, m.sent_ms),
            )
        ).fetchone()
        if row is not None:
            return Sent(str(row[0]), int(row[1]), duplicate=True)
    (sent,) = await _insert(conn, queue_id, [m])
    if m.dedup_id is not None:
        await conn.execute(
            "INSERT INTO sqs_dedup VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT "
            "(queue_id, scope, dedup_id) DO UPDATE SET message_id = EXCLUDED.message_id, "
            "seq = EXCLUDED.seq, until_ms = EXCLUDED.until_ms",
            (queue_id, scope, m.dedup_id, m.message_id, sent.seq, m.sent_ms + dedup.window_ms),
        )
    return sent


async def _claim(conn: Conn, claim: Claim) -> tuple[list[StoredMessage], int]:
    now = claim.now_ms
    out: list[StoredMessage] = []
    moved = 0
    for _ in range(100):  # bounded: each pass hands out or moves at least one message
        want = claim.limit - len(out)
        if want <= 0:
            break
        if claim.fifo:
            args: tuple[Any, ...] = (claim.queue_id, now, now, claim.queue_id, now, want)
            cur = await conn.execute(_FIFO_CANDIDATES, args)
        else:
            cur = await conn.execute(_CANDIDATES, (claim.queue_id, now, now, want))
        found = await cur.fetchall()
        if not found:
            break
        before = moved
        tokens = rows.receipt_tokens(len(found))
        taken: list[tuple[Any, ...]] = []
        for row in found:
            if claim.redrive is not None and int(row[10]) >= claim.redrive.max_receives:
                moved += await _redrive(conn, int(row[0]), claim.redrive, now, claim.fifo)
                continue
            taken.append(row)
        receipts = tokens[: len(taken)]
        if taken:  # one statement for the whole batch: a round trip per message cost 4x
            await conn.execute(
                _CLAIM, (claim.visible_at_ms, now, now, [r[0] for r in taken], receipts)
            )
        out += [
            rows.stored(row, receipt, claim.visible_at_ms, now)
            for row, receipt in zip(taken, receipts, strict=True)
        ]
        if len(found) < want and moved == before:
            break
    return out, moved


async def _redrive(conn: Conn, seq: int, redrive: Redrive, now: int, fifo: bool) -> int:
    cur = await conn.execute("SELECT 1 FROM sqs_queues WHERE id = %s", (redrive.dlq_id,))
    if await cur.fetchone() is None:
        return 0
    base: LiteralString = "%s::bigint" if fifo else "sent_ms"
    await conn.execute(
        f"INSERT INTO sqs_messages ({rows.INSERT_COLUMNS}) SELECT %s, message_id, body, "
        "attributes, md5_body, md5_attributes, system, group_id, dedup_id, sent_ms, %s, "
        f"{base} + %s FROM sqs_messages WHERE seq = %s",
        (redrive.dlq_id, now, *((now,) if fifo else ()), redrive.dlq_retention_ms, seq),
    )
    await conn.execute("DELETE FROM sqs_messages WHERE seq = %s", (seq,))
    return 1
