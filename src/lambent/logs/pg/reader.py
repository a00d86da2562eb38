"""Every read of the PostgreSQL log tables: the same queries as the SQLite reader (one
level up), so pages, orders and tokens match; the page logic itself is scan.py's.

Reads run on their own pooled connections in autocommit: each sees what any node had
committed when it started.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lambent.logs.errors import GROUP_MISSING, STREAM_MISSING, invalid_parameter, not_found
from lambent.logs.pg.writer import Conn
from lambent.logs.scan import (
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

_GROUP_COLUMNS = "id, name, created_ms, retention_days, stored_bytes"


def _group_row(r: tuple[Any, ...]) -> GroupRow:
    days = None if r[3] is None else int(r[3])
    return GroupRow(int(r[0]), str(r[1]), int(r[2]), days, int(r[4]))


async def group(conn: Conn, account: str, name: str) -> GroupRow:
    cur = await conn.execute(
        f"SELECT {_GROUP_COLUMNS} FROM logs_groups WHERE account = %s AND name = %s",
        (account, name),
    )
    row = await cur.fetchone()
    if row is None:
        raise not_found(GROUP_MISSING)
    return _group_row(row)


async def groups(
    conn: Conn, account: str, prefix: str, contains: str | None, after: str | None, limit: int
) -> list[GroupRow]:
    sql = (
        f"SELECT {_GROUP_COLUMNS} FROM logs_groups WHERE account = %s AND substr(name, 1, %s) = %s"
    )
    args: list[Any] = [account, len(prefix), prefix]
    if contains:
        sql += " AND strpos(lower(name), %s) > 0"
        args.append(contains.lower())
    if after is not None:
        sql += " AND name > %s"
        args.append(after)
    sql += " ORDER BY name LIMIT %s"
    args.append(limit)
    rows = await (await conn.execute(sql, args)).fetchall()
    return [_group_row(r) for r in rows]


async def streams(
    conn: Conn,
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
        "stored_bytes FROM logs_streams WHERE group_id = %s AND substr(name, 1, %s) = %s"
    )
    args: list[Any] = [gid, len(prefix), prefix]
    if after is not None:
        if not stream_token_fits(after, by_last_event):
            raise invalid_parameter("The specified nextToken is invalid.")
        marks = ", ".join(["%s"] * len(keys))
        sql += f" AND ({', '.join(keys)}) {'<' if descending else '>'} ({marks})"
        args.extend(after)
    direction = "DESC" if descending else "ASC"
    sql += f" ORDER BY {', '.join(f'{k} {direction}' for k in keys)} LIMIT %s"
    args.append(limit)
    rows = await (await conn.execute(sql, args)).fetchall()
    return [stream_item(*row) for row in rows]


async def stream_id(conn: Conn, gid: int, name: str) -> int:
    cur = await conn.execute(
        "SELECT id FROM logs_streams WHERE group_id = %s AND name = %s", (gid, name)
    )
    row = await cur.fetchone()
    if row is None:
        raise not_found(STREAM_MISSING)
    return int(row[0])


async def stream_ids(
    conn: Conn, gid: int, names: list[str] | None, prefix: str | None
) -> list[int]:
    if names is not None:
        cur = await conn.execute(
            "SELECT id FROM logs_streams WHERE group_id = %s AND name = ANY(%s)", (gid, names)
        )
    else:
        assert prefix is not None
        cur = await conn.execute(
            "SELECT id FROM logs_streams WHERE group_id = %s AND substr(name, 1, %s) = %s",
            (gid, len(prefix), prefix),
        )
    return [int(r[0]) for r in await cur.fetchall()]


async def stream_events(
    conn: Conn,
    sid: int,
    window: tuple[int | None, int | None],
    limit: int,
    forward: bool,
    bound: EventKey | None,
) -> list[StreamEvent]:
    sql = "SELECT ts, seq, ingested, message, size FROM logs_events WHERE stream_id = %s"
    args: list[Any] = [sid]
    if window[0] is not None:
        sql += " AND ts >= %s"
        args.append(window[0])
    if window[1] is not None:
        sql += " AND ts < %s"
        args.append(window[1])
    if bound is not None:
        sql += f" AND (ts, seq) {'>' if forward else '<'} (%s, %s)"
        args.extend(bound)
    direction = "ASC" if forward else "DESC"
    sql += f" ORDER BY ts {direction}, seq {direction} LIMIT %s"
    args.append(limit)
    rows = await (await conn.execute(sql, args)).fetchall()
    return stream_page(rows, forward)


async def filter_events(
    conn: Conn, gid: int, query: EventQuery
) -> tuple[list[dict[str, Any]], EventKey | None]:
    """Matching events in (timestamp, seq) order, and the key to resume after (if any).
    Rows come in chunks; patterns are matched on a worker thread, off the event loop."""
    ids: list[int] | None = None
    if query.stream_names is not None or query.stream_prefix is not None:
        ids = await stream_ids(conn, gid, query.stream_names, query.stream_prefix)
        if not ids:
            return [], None
    cur = await conn.execute("SELECT id, name FROM logs_streams WHERE group_id = %s", (gid,))
    names = {int(r[0]): str(r[1]) for r in await cur.fetchall()}
    scan = FilterScan(query, names)
    while (size := scan.wants()) is not None:
        rows = await _chunk(conn, gid, query, ids, scan.position, size)
        await asyncio.to_thread(scan.feed, rows)
    return scan.found, scan.resume


async def _chunk(
    conn: Conn, gid: int, query: EventQuery, ids: list[int] | None, after: EventKey, size: int
) -> list[ScanRow]:
    sql = (
        "SELECT ts, seq, stream_id, ingested, message, size FROM logs_events "
        "WHERE group_id = %s AND (ts, seq) > (%s, %s)"
    )
    args: list[Any] = [gid, *after]
    if query.start_ms is not None:
        sql += " AND ts >= %s"
        args.append(query.start_ms)
    if query.end_ms is not None:
        sql += " AND ts <= %s"
        args.append(query.end_ms)
    if ids is not None:
        sql += " AND stream_id = ANY(%s)"
        args.append(ids)
    sql += " ORDER BY ts, seq LIMIT %s"
    args.append(size)
    rows = await (await conn.execute(sql, args)).fetchall()
    return [(int(a), int(b), int(c), int(d), str(e), int(f)) for a, b, c, d, e, f in rows]
