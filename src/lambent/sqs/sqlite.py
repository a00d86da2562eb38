"""The queue service on SQLite: its own file (`DATA/sqs.db`), WAL, group commit.

Every statement runs on one writer thread (async_invoke/group_commit.py): concurrent
sends share a transaction and its commit. A send is acknowledged after its COMMIT with
`synchronous=FULL` (on disk); receives, visibility changes and deletes commit with NORMAL
(in the WAL, which survives the process's SIGKILL: the OS has it), and the next FULL
commit syncs them with everything before it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lambent.async_invoke.group_commit import GroupCommitWriter
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS queues (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (account, name)
);
CREATE TABLE IF NOT EXISTS deleted_queues (
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    deleted_ms INTEGER NOT NULL,
    PRIMARY KEY (account, name)
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    md5_body TEXT NOT NULL,
    md5_attributes TEXT NOT NULL,
    system TEXT NOT NULL,
    group_id TEXT,
    dedup_id TEXT,
    sent_ms INTEGER NOT NULL,
    visible_at_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER NOT NULL DEFAULT 0,
    received_ms INTEGER NOT NULL DEFAULT 0,
    receipt TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS messages_visible ON messages (queue_id, visible_at_ms, seq);
CREATE INDEX IF NOT EXISTS messages_order ON messages (queue_id, seq);
CREATE INDEX IF NOT EXISTS messages_expiry ON messages (expires_ms);
CREATE TABLE IF NOT EXISTS dedup (
    queue_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    until_ms INTEGER NOT NULL,
    PRIMARY KEY (queue_id, scope, dedup_id)
);
"""

_INSERT = f"INSERT INTO messages ({rows.INSERT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
_CANDIDATES = (
    f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE queue_id = ? AND visible_at_ms <= ? "
    "AND expires_ms > ? ORDER BY visible_at_ms, seq LIMIT ?"
)
# FIFO: in order, and nothing of a group that has a message in flight.
_FIFO_CANDIDATES = (
    f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE queue_id = ? AND visible_at_ms <= ? "
    "AND expires_ms > ? AND group_id NOT IN (SELECT group_id FROM messages WHERE "
    "queue_id = ? AND visible_at_ms > ? AND receive_count > 0) ORDER BY seq LIMIT ?"
)
_CLAIM = (
    "UPDATE messages SET visible_at_ms = ?, receive_count = receive_count + 1, "
    "first_receive_ms = CASE first_receive_ms WHEN 0 THEN ? ELSE first_receive_ms END, "
    "received_ms = ?, receipt = ? WHERE seq = ?"
)


def _setup(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


class SqliteQueues:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = GroupCommitWriter(path, _setup)

    async def _read(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        return await self._writer.run(work, durable=False)

    async def create_queue(self, record: QueueRecord) -> QueueRecord:
        def work(conn: sqlite3.Connection) -> QueueRecord:
            found = _queue(conn, "account = ? AND name = ?", (record.account, record.name))
            if found is not None:
                return found
            conn.execute(
                "INSERT INTO queues (id, account, name, doc) VALUES (?, ?, ?, ?)",
                (record.id, record.account, record.name, rows.queue_doc(record)),
            )
            return record

        result: QueueRecord = await self._writer.run(work)
        return result

    async def get_queue(self, account: str, name: str) -> QueueRecord | None:
        found: QueueRecord | None = await self._read(
            lambda conn: _queue(conn, "account = ? AND name = ?", (account, name))
        )
        return found

    async def get_queue_by_id(self, queue_id: str) -> QueueRecord | None:
        found: QueueRecord | None = await self._read(
            lambda conn: _queue(conn, "id = ?", (queue_id,))
        )
        return found

    async def list_queues(
        self, account: str | None, prefix: str, after: str, limit: int
    ) -> list[QueueRecord]:
        def work(conn: sqlite3.Connection) -> list[QueueRecord]:
            if account is None:
                cur = conn.execute(
                    "SELECT id, account, name, doc FROM queues ORDER BY account, name LIMIT ?",
                    (limit,),
                )
            else:
                cur = conn.execute(
                    "SELECT id, account, name, doc FROM queues WHERE account = ? AND name > ? "
                    "AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
                    (account, after, len(prefix), prefix, limit),
                )
            return [rows.queue_from(*row) for row in cur.fetchall()]

        result: list[QueueRecord] = await self._read(work)
        return result

    async def update_queue(self, record: QueueRecord) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "UPDATE queues SET doc = ? WHERE id = ?", (rows.queue_doc(record), record.id)
            )
            return cur.rowcount > 0

        done: bool = await self._writer.run(work)
        return done

    async def delete_queue(self, queue_id: str, now_ms: int) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT account, name FROM queues WHERE id = ?", (queue_id,))
            found = row.fetchone()
            if found is None:
                return False
            conn.execute("DELETE FROM queues WHERE id = ?", (queue_id,))
            conn.execute("DELETE FROM messages WHERE queue_id = ?", (queue_id,))
            conn.execute("DELETE FROM dedup WHERE queue_id = ?", (queue_id,))
            conn.execute("INSERT OR REPLACE INTO deleted_queues VALUES (?, ?, ?)", (*found, now_ms))
            return True

        done: bool = await self._writer.run(work)
        return done

    async def deleted_at(self, account: str, name: str) -> int | None:
        def work(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(
                "SELECT deleted_ms FROM deleted_queues WHERE account = ? AND name = ?",
                (account, name),
            ).fetchone()
            return None if row is None else int(row[0])

        found: int | None = await self._read(work)
        return found

    async def send(
        self, queue_id: str, messages: Sequence[NewMessage], dedup: Dedup | None
    ) -> list[Sent]:
        def work(conn: sqlite3.Connection) -> list[Sent]:
            if conn.execute("SELECT 1 FROM queues WHERE id = ?", (queue_id,)).fetchone() is None:
                raise QueueDoesNotExist()
            return [_send_one(conn, queue_id, m, dedup) for m in messages]

        sent: list[Sent] = await self._writer.run(work)
        return sent

    async def claim(self, claim: Claim) -> Claimed:
        claimed: Claimed = await self._writer.run(lambda conn: _claim(conn, claim), durable=False)
        return claimed

    async def delete_messages(self, queue_id: str, receipts: Sequence[tuple[int, str]]) -> None:
        args = [(seq, queue_id, receipt) for seq, receipt in receipts]

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "DELETE FROM messages WHERE seq = ? AND queue_id = ? AND receipt = ?", args
            )

        await self._writer.run(work, durable=False)

    async def change_visibility(
        self,
        queue_id: str,
        changes: Sequence[tuple[int, str, int]],
        now_ms: int,
        max_total_ms: int,
    ) -> list[str]:
        def work(conn: sqlite3.Connection) -> list[str]:
            out: list[str] = []
            for seq, receipt, visible_at in changes:
                row = conn.execute(
                    "SELECT receipt, visible_at_ms, received_ms FROM messages "
                    "WHERE seq = ? AND queue_id = ?",
                    (seq, queue_id),
                ).fetchone()
                verdict = rows.visibility_verdict(row, receipt, visible_at, now_ms, max_total_ms)
                if verdict == VisibilityResult.CHANGED:
                    conn.execute(
                        "UPDATE messages SET visible_at_ms = ? WHERE seq = ?", (visible_at, seq)
                    )
                out.append(verdict)
            return out

        result: list[str] = await self._writer.run(work, durable=False)
        return result

    async def purge(self, queue_id: str) -> int:
        def work(conn: sqlite3.Connection) -> int:
            return int(
                conn.execute("DELETE FROM messages WHERE queue_id = ?", (queue_id,)).rowcount
            )

        count: int = await self._writer.run(work)
        return count

    async def counts(self, queue_id: str, now_ms: int) -> Counts:
        def work(conn: sqlite3.Connection) -> Counts:
            row = conn.execute(_COUNTS + " WHERE queue_id = ?", (*[now_ms] * 4, queue_id))
            return _counts(row.fetchone())

        result: Counts = await self._read(work)
        return result

    async def all_counts(self, now_ms: int) -> dict[str, Counts]:
        def work(conn: sqlite3.Connection) -> dict[str, Counts]:
            cur = conn.execute(
                "SELECT queue_id, " + _COUNTS[len("SELECT ") :] + " GROUP BY queue_id",
                [now_ms] * 4,
            )
            return {row[0]: _counts(row[1:]) for row in cur.fetchall()}

        result: dict[str, Counts] = await self._read(work)
        return result

    async def expire(self, now_ms: int) -> int:
        def work(conn: sqlite3.Connection) -> int:
            conn.execute("DELETE FROM dedup WHERE until_ms <= ?", (now_ms,))
            return int(
                conn.execute("DELETE FROM messages WHERE expires_ms <= ?", (now_ms,)).rowcount
            )

        count: int = await self._writer.run(work, durable=False)
        return count

    async def move(self, source_id: str, dest_id: str, limit: int, now_ms: int) -> int:
        def work(conn: sqlite3.Connection) -> int:
            seqs = conn.execute(
                "SELECT seq FROM messages WHERE queue_id = ? AND visible_at_ms <= ? "
                "ORDER BY seq LIMIT ?",
                (source_id, now_ms, limit),
            ).fetchall()
            for (seq,) in seqs:
                _move_one(conn, seq, dest_id, now_ms)
            return len(seqs)

        count: int = await self._writer.run(work)
        return count

    def on_remote_send(self, wake: Callable[[str], None]) -> None:
        """One server owns this file: no other node sends into it."""

    async def close(self) -> None:
        await asyncio.to_thread(self._writer.close)


_COUNTS = (
    "SELECT SUM(visible_at_ms <= ? AND expires_ms > ?), "
    "SUM(visible_at_ms > ? AND receive_count > 0), "
    "SUM(visible_at_ms > ? AND receive_count = 0) FROM messages"
)


def _counts(row: Sequence[Any]) -> Counts:
    return Counts(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


def _queue(conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> QueueRecord | None:
    row = conn.execute(f"SELECT id, account, name, doc FROM queues WHERE {where}", args).fetchone()
    return None if row is None else rows.queue_from(*row)


def _send_one(conn: sqlite3.Connection, queue_id: str, m: NewMessage, dedup: Dedup | None) -> Sent:
    scope = (m.group_id or "") if dedup is not None and dedup.by_group else ""
    if dedup is not None and m.dedup_id is not None:
        seen = conn.execute(
            "SELECT message_id, seq FROM dedup WHERE queue_id = ? AND scope = ? "
            "AND dedup_id = ? AND until_ms > ?",
            (queue_id, scope, m.dedup_id, m.sent_ms),
        ).fetchone()
        if seen is not None:
            return Sent(str(seen[0]), int(seen[1]), duplicate=True)
    seq = int(conn.execute(_INSERT, rows.message_values(queue_id, m)).lastrowid or 0)
    if dedup is not None and m.dedup_id is not None:
        conn.execute(
            "INSERT OR REPLACE INTO dedup VALUES (?, ?, ?, ?, ?, ?)",
            (queue_id, scope, m.dedup_id, m.message_id, seq, m.sent_ms + dedup.window_ms),
        )
    return Sent(m.message_id, seq)


def _claim(conn: sqlite3.Connection, claim: Claim) -> Claimed:
    now = claim.now_ms
    out: list[StoredMessage] = []
    moved = 0
    redrive = claim.redrive
    for _ in range(100):  # bounded: each pass hands out or moves at least one message
        want = claim.limit - len(out)
        if want <= 0:
            break
        if claim.fifo:
            args: tuple[Any, ...] = (claim.queue_id, now, now, claim.queue_id, now, want)
            found = conn.execute(_FIFO_CANDIDATES, args).fetchall()
        else:
            found = conn.execute(_CANDIDATES, (claim.queue_id, now, now, want)).fetchall()
        if not found:
            break
        moved_before = moved
        tokens = rows.receipt_tokens(len(found))
        for row in found:
            if redrive is not None and int(row[10]) >= redrive.max_receives:
                moved += _redrive(conn, int(row[0]), redrive.dlq_id, now, claim.fifo, redrive)
                continue
            receipt = tokens.pop()
            conn.execute(_CLAIM, (claim.visible_at_ms, now, now, receipt, row[0]))
            out.append(rows.stored(row, receipt, claim.visible_at_ms, now))
        if len(found) < want and moved == moved_before:
            break  # this pass saw everything available: another finds no more
    following = conn.execute(
        "SELECT MIN(visible_at_ms) FROM messages WHERE queue_id = ? AND visible_at_ms > ?",
        (claim.queue_id, now),
    ).fetchone()[0]
    return Claimed(out, moved, None if following is None else int(following))


def _redrive(
    conn: sqlite3.Connection, seq: int, dlq_id: str, now: int, fifo: bool, redrive: Redrive
) -> int:
    """Move one message to the dead-letter queue. A standard queue's message keeps its
    enqueue time for the DLQ's retention; a FIFO's retention starts again (AWS)."""
    if conn.execute("SELECT 1 FROM queues WHERE id = ?", (dlq_id,)).fetchone() is None:
        return 0
    base = "? " if fifo else "sent_ms "
    conn.execute(
        f"INSERT INTO messages ({rows.INSERT_COLUMNS}) SELECT ?, message_id, body, attributes, "
        "md5_body, md5_attributes, system, group_id, dedup_id, sent_ms, ?, "
        f"{base}+ ? FROM messages WHERE seq = ?",
        (dlq_id, now, *((now,) if fifo else ()), redrive.dlq_retention_ms, seq),
    )
    conn.execute("DELETE FROM messages WHERE seq = ?", (seq,))
    return 1


def _move_one(conn: sqlite3.Connection, seq: int, dest_id: str, now: int) -> None:
    conn.execute(
        f"INSERT INTO messages ({rows.INSERT_COLUMNS}) SELECT ?, message_id, body, attributes, "
        "md5_body, md5_attributes, system, group_id, dedup_id, sent_ms, ?, expires_ms "
        "FROM messages WHERE seq = ?",
        (dest_id, now, seq),
    )
    conn.execute("DELETE FROM messages WHERE seq = ?", (seq,))
