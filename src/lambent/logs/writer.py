"""Every write to the log database. Callers hold the store's write lock.

Group and stream ids are cached: the hot path (a batch from `emit`) resolves names to ids
without a query once a stream exists. Anything that deletes a group or stream goes
through here and drops the cached ids.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence

from lambent.logs import retention
from lambent.logs.buffer import EventRow
from lambent.logs.errors import STREAM_MISSING, not_found


class LogWriter:
    def __init__(self, conn: sqlite3.Connection, max_events_per_group: int) -> None:
        self._conn = conn
        self._max_events = max_events_per_group
        self._groups: dict[tuple[str, str], int] = {}
        self._streams: dict[tuple[int, str], int] = {}

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            # Ids cached inside a rolled-back transaction may not exist.
            self._groups.clear()
            self._streams.clear()
            raise
        self._conn.execute("COMMIT")

    # names to ids ------------------------------------------------------------------------
    def group_id(self, account: str, name: str) -> int | None:
        gid = self._groups.get((account, name))
        if gid is None:
            row = self._conn.execute(
                "SELECT id FROM log_groups WHERE account=? AND name=?", (account, name)
            ).fetchone()
            if row is None:
                return None
            gid = int(row[0])
            self._groups[(account, name)] = gid
        return gid

    def stream_id(self, gid: int, name: str) -> int | None:
        sid = self._streams.get((gid, name))
        if sid is None:
            row = self._conn.execute(
                "SELECT id FROM log_streams WHERE group_id=? AND name=?", (gid, name)
            ).fetchone()
            if row is None:
                return None
            sid = int(row[0])
            self._streams[(gid, name)] = sid
        return sid

    def existing_stream(self, gid: int, name: str) -> int:
        sid = self.stream_id(gid, name)
        if sid is None:
            raise not_found(STREAM_MISSING)
        return sid

    def create_group(self, account: str, name: str, now_ms: int) -> bool:
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO log_groups (account, name, created_ms) VALUES (?,?,?)",
            (account, name, now_ms),
        )
        return cur.rowcount == 1

    def create_stream(self, gid: int, name: str, now_ms: int) -> bool:
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO log_streams (group_id, name, created_ms) VALUES (?,?,?)",
            (gid, name, now_ms),
        )
        return cur.rowcount == 1

    def ensure_stream(self, account: str, group: str, stream: str, now_ms: int) -> tuple[int, int]:
        gid = self.group_id(account, group)
        if gid is None:
            self.create_group(account, group, now_ms)
            gid = self.group_id(account, group)
            assert gid is not None
        sid = self.stream_id(gid, stream)
        if sid is None:
            self.create_stream(gid, stream, now_ms)
            sid = self.stream_id(gid, stream)
            assert sid is not None
        return gid, sid

    # events ------------------------------------------------------------------------------
    def insert(self, gid: int, sid: int, events: Sequence[EventRow], ingest_ms: int) -> None:
        if not events:
            return
        rows = [(gid, sid, ts, ingest_ms, len(msg.encode()), msg) for ts, msg in events]
        self._conn.executemany(
            "INSERT INTO log_events (group_id, stream_id, ts, ingested, size, message) "
            "VALUES (?,?,?,?,?,?)",
            rows,
        )
        size = sum(r[4] for r in rows)
        first = min(ts for ts, _ in events)
        last = max(ts for ts, _ in events)
        self._conn.execute(
            "UPDATE log_streams SET stored_bytes = stored_bytes + ?, "
            "first_event_ms = min(coalesce(first_event_ms, ?), ?), "
            "last_event_ms = max(coalesce(last_event_ms, ?), ?), last_ingestion_ms = ? "
            "WHERE id = ?",
            (size, first, first, last, last, ingest_ms, sid),
        )
        self._conn.execute(
            "UPDATE log_groups SET stored_bytes = stored_bytes + ?, "
            "event_count = event_count + ? WHERE id = ?",
            (size, len(rows), gid),
        )

    def trim(self, gid: int) -> int:
        """Drop the group's oldest events beyond the per-group bound."""
        row = self._conn.execute("SELECT event_count FROM log_groups WHERE id=?", (gid,)).fetchone()
        over = retention.excess(int(row[0]) if row else 0, self._max_events)
        if not over:
            return 0
        return self._delete_events(
            gid,
            "seq IN (SELECT seq FROM log_events WHERE group_id=? ORDER BY ts, seq LIMIT ?)",
            (gid, over),
        )

    def expire(self, gid: int, cutoff_ms: int) -> int:
        removed = self._delete_events(gid, "ts < ?", (cutoff_ms,))
        # Streams with nothing left and no activity within retention go too, as in AWS;
        # Lambda makes one stream per execution environment, so they would pile up.
        doomed = self._conn.execute(
            "SELECT id, name FROM log_streams WHERE group_id=? AND first_event_ms IS NULL "
            "AND coalesce(last_ingestion_ms, created_ms) < ?",
            (gid, cutoff_ms),
        ).fetchall()
        for sid, name in doomed:
            self._conn.execute("DELETE FROM log_streams WHERE id=?", (sid,))
            self._streams.pop((gid, str(name)), None)
        return removed

    def _delete_events(self, gid: int, condition: str, args: tuple[object, ...]) -> int:
        where = f"group_id = ? AND {condition}"
        per_stream = self._conn.execute(
            f"SELECT stream_id, count(*), sum(size) FROM log_events WHERE {where} "
            "GROUP BY stream_id",
            (gid, *args),
        ).fetchall()
        if not per_stream:
            return 0
        self._conn.execute(f"DELETE FROM log_events WHERE {where}", (gid, *args))
        total_count = total_size = 0
        for sid, count, size in per_stream:
            total_count += int(count)
            total_size += int(size)
            self._conn.execute(
                "UPDATE log_streams SET stored_bytes = stored_bytes - ?, first_event_ms = "
                "(SELECT min(ts) FROM log_events WHERE stream_id = ?) WHERE id = ?",
                (size, sid, sid),
            )
        self._conn.execute(
            "UPDATE log_groups SET stored_bytes = stored_bytes - ?, "
            "event_count = event_count - ? WHERE id = ?",
            (total_size, total_count, gid),
        )
        return total_count

    # retention, deletion -----------------------------------------------------------------
    def groups_for_sweep(self) -> list[tuple[int, int | None]]:
        rows = self._conn.execute("SELECT id, retention_days FROM log_groups").fetchall()
        return [(int(gid), None if days is None else int(days)) for gid, days in rows]

    def retention_days(self, gid: int) -> int | None:
        row = self._conn.execute("SELECT retention_days FROM log_groups WHERE id=?", (gid,))
        found = row.fetchone()
        return None if found is None or found[0] is None else int(found[0])

    def set_retention(self, gid: int, days: int | None) -> None:
        self._conn.execute("UPDATE log_groups SET retention_days=? WHERE id=?", (days, gid))

    def delete_group(self, account: str, name: str) -> bool:
        gid = self.group_id(account, name)
        if gid is None:
            return False
        self._conn.execute("DELETE FROM log_events WHERE group_id=?", (gid,))
        self._conn.execute("DELETE FROM log_streams WHERE group_id=?", (gid,))
        self._conn.execute("DELETE FROM log_groups WHERE id=?", (gid,))
        self._groups.pop((account, name), None)
        for key in [k for k in self._streams if k[0] == gid]:
            del self._streams[key]
        return True

    def delete_stream(self, gid: int, name: str) -> None:
        sid = self.existing_stream(gid, name)
        self._delete_events(gid, "stream_id = ?", (sid,))
        self._conn.execute("DELETE FROM log_streams WHERE id=?", (sid,))
        self._streams.pop((gid, name), None)
