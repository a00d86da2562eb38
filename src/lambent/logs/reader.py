"""Every read of the log database, shaped as the Logs API's output members.

Callers hold the store's read lock; the reader has its own connection, so reads see the
last committed batch and never wait behind a write (WAL).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from lambent.logs.errors import GROUP_MISSING, STREAM_MISSING, invalid_parameter, not_found
from lambent.logs.scan import (
    CHUNK,
    EventQuery,
    FilterScan,
    GroupRow,
    ScanRow,
    StreamEvent,
    stream_item,
    stream_page,
    stream_token_fits,
)
from lambent.logs.tokens import EventKey


class LogReader:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def group(self, account: str, name: str) -> GroupRow:
        row = self._conn.execute(
            "SELECT id, name, created_ms, retention_days, stored_bytes FROM log_groups "
            "WHERE account=? AND name=?",
            (account, name),
        ).fetchone()
        if row is None:
            raise not_found(GROUP_MISSING)
        return GroupRow(int(row[0]), str(row[1]), int(row[2]), row[3], int(row[4]))

    def groups(
        self, account: str, prefix: str, contains: str | None, after: str | None, limit: int
    ) -> list[GroupRow]:
        sql = (
            "SELECT id, name, created_ms, retention_days, stored_bytes FROM log_groups "
            "WHERE account=? AND substr(name, 1, ?) = ?"
        )
        args: list[Any] = [account, len(prefix), prefix]
        if contains:
            sql += " AND instr(lower(name), ?) > 0"
            args.append(contains.lower())
        if after is not None:
            sql += " AND name > ?"
            args.append(after)
        sql += " ORDER BY name LIMIT ?"
        args.append(limit)
        rows = self._conn.execute(sql, args).fetchall()
        return [GroupRow(int(r[0]), str(r[1]), int(r[2]), r[3], int(r[4])) for r in rows]

    def streams(
        self,
        gid: int,
        prefix: str,
        by_last_event: bool,
        descending: bool,
        after: list[Any] | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        keys = ["coalesce(last_event_ms, 0)", "name"] if by_last_event else ["name"]
        sql = (
            "SELECT name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, "
            "stored_bytes FROM log_streams WHERE group_id=? AND substr(name, 1, ?) = ?"
        )
        args: list[Any] = [gid, len(prefix), prefix]
        if after is not None:
            if not stream_token_fits(after, by_last_event):
                raise invalid_parameter("The specified nextToken is invalid.")
            marks = ", ".join("?" * len(keys))
            sql += f" AND ({', '.join(keys)}) {'<' if descending else '>'} ({marks})"
            args.extend(after)
        direction = "DESC" if descending else "ASC"
        order = ", ".join(f"{k} {direction}" for k in keys)
        sql += f" ORDER BY {order} LIMIT ?"
        args.append(limit)
        return [stream_item(*row) for row in self._conn.execute(sql, args)]

    def stream_id(self, gid: int, name: str) -> int:
        row = self._conn.execute(
            "SELECT id FROM log_streams WHERE group_id=? AND name=?", (gid, name)
        ).fetchone()
        if row is None:
            raise not_found(STREAM_MISSING)
        return int(row[0])

    def stream_ids(self, gid: int, names: list[str] | None, prefix: str | None) -> list[int]:
        if names is not None:
            marks = ",".join("?" * len(names))
            rows = self._conn.execute(
                f"SELECT id FROM log_streams WHERE group_id=? AND name IN ({marks})",
                (gid, *names),
            ).fetchall()
        else:
            assert prefix is not None
            rows = self._conn.execute(
                "SELECT id FROM log_streams WHERE group_id=? AND substr(name, 1, ?) = ?",
                (gid, len(prefix), prefix),
            ).fetchall()
        return [int(r[0]) for r in rows]

    # GetLogEvents --------------------------------------------------------------------------
    def stream_events(
        self,
        sid: int,
        start_ms: int | None,
        end_ms: int | None,
        limit: int,
        forward: bool,
        bound: EventKey | None,
    ) -> list[StreamEvent]:
        """Events of one stream in [start, end), after (forward) or before `bound`,
        in ascending order; at most `limit` events and about 1 MB, nearest `bound` first."""
        sql = "SELECT ts, seq, ingested, message, size FROM log_events WHERE stream_id=?"
        args: list[Any] = [sid]
        if start_ms is not None:
            sql += " AND ts >= ?"
            args.append(start_ms)
        if end_ms is not None:
            sql += " AND ts < ?"
            args.append(end_ms)
        if bound is not None:
            sql += f" AND (ts, seq) {'>' if forward else '<'} (?, ?)"
            args.extend(bound)
        direction = "ASC" if forward else "DESC"
        sql += f" ORDER BY ts {direction}, seq {direction} LIMIT ?"
        args.append(limit)
        return stream_page(self._conn.execute(sql, args).fetchall(), forward)

    # FilterLogEvents -----------------------------------------------------------------------
    def filter_events(
        self, gid: int, query: EventQuery
    ) -> tuple[list[dict[str, Any]], EventKey | None]:
        """Matching events in (timestamp, seq) order, and the key to resume after (if any)."""
        if query.stream_names is not None or query.stream_prefix is not None:
            ids: list[int] | None = self.stream_ids(gid, query.stream_names, query.stream_prefix)
            if not ids:
                return [], None
        else:
            ids = None
        names = dict(
            self._conn.execute("SELECT id, name FROM log_streams WHERE group_id=?", (gid,))
        )
        scan = FilterScan(query, names)
        while (size := scan.wants()) is not None:
            scan.feed(self._chunk(gid, query, ids, scan.position, size))
        return scan.found, scan.resume

    def _chunk(
        self, gid: int, query: EventQuery, ids: list[int] | None, after: EventKey, size: int = CHUNK
    ) -> list[ScanRow]:
        sql = (
            "SELECT ts, seq, stream_id, ingested, message, size FROM log_events "
            "WHERE group_id=? AND (ts, seq) > (?, ?)"
        )
        args: list[Any] = [gid, *after]
        if query.start_ms is not None:
            sql += " AND ts >= ?"
            args.append(query.start_ms)
        if query.end_ms is not None:
            sql += " AND ts <= ?"
            args.append(query.end_ms)
        if ids is not None:
            sql += f" AND stream_id IN ({','.join('?' * len(ids))})"
            args.extend(ids)
        sql += " ORDER BY ts, seq LIMIT ?"
        args.append(size)
        return list(self._conn.execute(sql, args).fetchall())
