"""Every write to the PostgreSQL log tables; each function runs inside the caller's
transaction on one connection.

Many nodes write the same groups, so a writer takes the group rows' locks (FOR UPDATE, in
id order: no deadlock between two batches) before touching a group's streams, events or
counters; stream creation and deletion take the same lock. Under it, ids cached from
earlier batches are checked: a group or stream another node deleted is created again
rather than written to under a dead id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString

from psycopg import AsyncConnection

from lambent.logs import retention
from lambent.logs.buffer import Batch, rows_of
from lambent.logs.sink import LogEvent

Conn = AsyncConnection[tuple[Any, ...]]
GroupKey = tuple[str, str]  # (account, name)
StreamKey = tuple[int, str]  # (group id, name)
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_COPY: LiteralString = (
    "COPY logs_events (group_id, stream_id, ts, ingested, size, message) FROM STDIN"
)


@dataclass
class IdCache:
    """Names to ids, so a batch for known streams resolves them without a query."""

    groups: dict[GroupKey, int] = field(default_factory=dict)
    streams: dict[StreamKey, int] = field(default_factory=dict)

    def forget_group(self, gid: int) -> None:
        self.groups = {k: v for k, v in self.groups.items() if v != gid}
        self.streams = {k: v for k, v in self.streams.items() if k[0] != gid}


class Stale(Exception):
    """Cached ids kept vanishing under a batch (groups deleted again and again)."""


# names to ids ------------------------------------------------------------------------------
async def group_id(conn: Conn, account: str, name: str, *, lock: str = "") -> int | None:
    """The group's id; `lock` is "" or a row-locking clause ("FOR UPDATE", "FOR SHARE")."""
    sql: Any = f"SELECT id FROM logs_groups WHERE account = %s AND name = %s {lock}"
    row = await (await conn.execute(sql, (account, name))).fetchone()
    return None if row is None else int(row[0])


async def stream_id(conn: Conn, gid: int, name: str) -> int | None:
    cur = await conn.execute(
        "SELECT id FROM logs_streams WHERE group_id = %s AND name = %s", (gid, name)
    )
    row = await cur.fetchone()
    return None if row is None else int(row[0])


async def create_group(conn: Conn, account: str, name: str, now_ms: int) -> bool:
    cur = await conn.execute(
        "INSERT INTO logs_groups (account, name, created_ms) VALUES (%s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        (account, name, now_ms),
    )
    return cur.rowcount == 1


async def create_stream(conn: Conn, gid: int, name: str, now_ms: int) -> bool:
    cur = await conn.execute(
        "INSERT INTO logs_streams (group_id, name, created_ms) VALUES (%s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        (gid, name, now_ms),
    )
    return cur.rowcount == 1


async def _lock_groups(
    conn: Conn, cache: IdCache, keys: Sequence[GroupKey], now_ms: int
) -> dict[GroupKey, int]:
    """Every group of a batch, created if missing, locked FOR UPDATE in id order."""
    for _ in range(3):
        wanted: dict[GroupKey, int] = {}
        for key in sorted(set(keys)):
            gid = cache.groups.get(key)
            if gid is None:
                await create_group(conn, key[0], key[1], now_ms)
                gid = await group_id(conn, *key)
                assert gid is not None
                cache.groups[key] = gid
            wanted[key] = gid
        cur = await conn.execute(
            "SELECT id FROM logs_groups WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            (sorted(set(wanted.values())),),
        )
        live = {int(r[0]) for r in await cur.fetchall()}
        stale = [gid for gid in wanted.values() if gid not in live]
        if not stale:
            return wanted
        for gid in stale:
            cache.forget_group(gid)
    raise Stale("log groups deleted under a batch three times")


async def _streams(
    conn: Conn, cache: IdCache, keys: Sequence[StreamKey], now_ms: int
) -> dict[StreamKey, int]:
    """Stream ids under their groups' locks: cached ones checked, missing ones created."""
    found = {k: cache.streams[k] for k in keys if k in cache.streams}
    if found:
        cur = await conn.execute(
            "SELECT id FROM logs_streams WHERE id = ANY(%s)", (list(found.values()),)
        )
        live = {int(r[0]) for r in await cur.fetchall()}
        for key, sid in list(found.items()):
            if sid not in live:
                del found[key]
                cache.streams.pop(key, None)
    for key in sorted(set(keys) - found.keys()):
        await create_stream(conn, key[0], key[1], now_ms)
        made = await stream_id(conn, *key)
        assert made is not None
        cache.streams[key] = found[key] = made
    return found


# events ------------------------------------------------------------------------------------
@dataclass
class _Payload:
    data: bytes = b""
    # (stream id, bytes, first ts, last ts) and (group id, bytes, events)
    streams: list[tuple[int, int, int, int]] = field(default_factory=list)
    groups: dict[int, list[int]] = field(default_factory=dict)


def _payload(rows: list[tuple[int, int, list[LogEvent]]], now_ms: int) -> _Payload:
    """COPY's text for the rows, and the counters they add. Built on a worker thread: a
    batch can hold many thousand lines and the event loop serves invokes meanwhile."""
    out = _Payload()
    lines: list[str] = []
    for gid, sid, given in rows:
        events = rows_of(given)
        total = 0
        for ts, msg in events:
            size = len(msg.encode())
            total += size
            lines.append(f"{gid}\t{sid}\t{ts}\t{now_ms}\t{size}\t{msg.translate(_ESCAPES)}\n")
        stamps = [ts for ts, _ in events]
        out.streams.append((sid, total, min(stamps), max(stamps)))
        counts = out.groups.setdefault(gid, [0, 0])
        counts[0] += total
        counts[1] += len(events)
    out.data = "".join(lines).encode()
    return out


async def insert(conn: Conn, rows: list[tuple[int, int, list[LogEvent]]], now_ms: int) -> None:
    """Append events (group id, stream id, lines) with one COPY, then the counters;
    messages are clipped (buffer.clip) with the rest of the COPY's text."""
    rows = [r for r in rows if r[2]]
    if not rows:
        return
    payload = await asyncio.to_thread(_payload, rows, now_ms)
    async with conn.cursor().copy(_COPY) as copy:
        await copy.write(payload.data)
    sids, sizes, firsts, lasts = (list(c) for c in zip(*payload.streams, strict=True))
    await conn.execute(
        "UPDATE logs_streams s SET stored_bytes = s.stored_bytes + v.size, "
        "first_event_ms = LEAST(s.first_event_ms, v.first), "
        "last_event_ms = GREATEST(s.last_event_ms, v.last), last_ingestion_ms = %s "
        "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) "
        "AS v(id, size, first, last) WHERE s.id = v.id",
        (now_ms, sids, sizes, firsts, lasts),
    )
    gids = sorted(payload.groups)
    await conn.execute(
        "UPDATE logs_groups g SET stored_bytes = g.stored_bytes + v.size, "
        "event_count = g.event_count + v.n "
        "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(id, size, n) "
        "WHERE g.id = v.id",
        (gids, [payload.groups[g][0] for g in gids], [payload.groups[g][1] for g in gids]),
    )


async def write_batch(
    conn: Conn, cache: IdCache, batch: Batch, now_ms: int, max_events: int
) -> None:
    """One drained buffer in the caller's transaction: groups and streams made on first
    use, events by COPY, counters, then each touched group trimmed to its bound."""
    gids = await _lock_groups(conn, cache, [(a, g) for a, g, _ in batch], now_ms)
    keys = {key: (gids[(key[0], key[1])], key[2]) for key in batch}
    sids = await _streams(conn, cache, list(keys.values()), now_ms)
    rows = [(gid, sids[(gid, s)], batch[key]) for key, (gid, s) in keys.items()]
    await insert(conn, rows, now_ms)
    for gid in sorted(set(gids.values())):
        await trim(conn, gid, max_events)


# retention, deletion -----------------------------------------------------------------------
async def sweep_candidates(
    conn: Conn, now_ms: int, default_days: int, max_events: int
) -> list[tuple[int, int]]:
    """(group id, retention cutoff) of the groups a sweep would change: events past
    retention, emptied streams idle past it, or more events than the bound. One query,
    index probes per group, rather than a transaction per group of the cluster."""
    cur = await conn.execute(
        "SELECT g.id, g.cutoff FROM (SELECT id, event_count, %(now)s - "
        "coalesce(retention_days, %(days)s)::bigint * %(day)s AS cutoff FROM logs_groups) g "
        "WHERE g.event_count > %(max)s "
        "OR EXISTS (SELECT 1 FROM logs_events e WHERE e.group_id = g.id AND e.ts < g.cutoff) "
        "OR EXISTS (SELECT 1 FROM logs_streams s WHERE s.group_id = g.id "
        "AND s.first_event_ms IS NULL AND coalesce(s.last_ingestion_ms, s.created_ms) < g.cutoff) "
        "ORDER BY g.id",
        {"now": now_ms, "days": default_days, "day": retention.DAY_MS, "max": max_events},
    )
    return [(int(gid), int(cutoff)) for gid, cutoff in await cur.fetchall()]


async def trim(conn: Conn, gid: int, max_events: int) -> int:
    """Drop the group's oldest events beyond the per-group bound."""
    cur = await conn.execute("SELECT event_count FROM logs_groups WHERE id = %s", (gid,))
    row = await cur.fetchone()
    over = retention.excess(int(row[0]) if row else 0, max_events)
    if not over:
        return 0
    return await delete_events(
        conn,
        gid,
        "seq IN (SELECT seq FROM logs_events WHERE group_id = %(gid)s "
        "ORDER BY ts, seq LIMIT %(n)s)",
        {"n": over},
    )


async def expire(conn: Conn, cache: IdCache, gid: int, cutoff_ms: int) -> int:
    removed = await delete_events(conn, gid, "ts < %(cutoff)s", {"cutoff": cutoff_ms})
    # Streams with nothing left and no activity within retention go too, as in AWS.
    cur = await conn.execute(
        "DELETE FROM logs_streams WHERE group_id = %s AND first_event_ms IS NULL "
        "AND coalesce(last_ingestion_ms, created_ms) < %s RETURNING name",
        (gid, cutoff_ms),
    )
    for (name,) in await cur.fetchall():
        cache.streams.pop((gid, str(name)), None)
    return removed


async def delete_events(conn: Conn, gid: int, condition: str, args: dict[str, Any]) -> int:
    """Delete the group's events matching `condition` and keep the counters right."""
    sql: Any = (
        "WITH gone AS (DELETE FROM logs_events WHERE group_id = %(gid)s AND "
        f"{condition} RETURNING stream_id, size) "
        "SELECT stream_id, count(*), sum(size) FROM gone GROUP BY stream_id"
    )
    per_stream = await (await conn.execute(sql, {"gid": gid, **args})).fetchall()
    if not per_stream:
        return 0
    sids = [int(r[0]) for r in per_stream]
    sizes = [int(r[2]) for r in per_stream]
    await conn.execute(
        "UPDATE logs_streams s SET stored_bytes = s.stored_bytes - v.size, first_event_ms = "
        "(SELECT min(ts) FROM logs_events e WHERE e.stream_id = s.id) "
        "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, size) WHERE s.id = v.id",
        (sids, sizes),
    )
    count = sum(int(r[1]) for r in per_stream)
    await conn.execute(
        "UPDATE logs_groups SET stored_bytes = stored_bytes - %s, "
        "event_count = event_count - %s WHERE id = %s",
        (sum(sizes), count, gid),
    )
    return count


async def delete_group(conn: Conn, cache: IdCache, account: str, name: str) -> bool:
    gid = await group_id(conn, account, name, lock="FOR UPDATE")
    if gid is None:
        return False
    await conn.execute("DELETE FROM logs_events WHERE group_id = %s", (gid,))
    await conn.execute("DELETE FROM logs_streams WHERE group_id = %s", (gid,))
    await conn.execute("DELETE FROM logs_groups WHERE id = %s", (gid,))
    cache.forget_group(gid)
    return True


async def delete_stream(conn: Conn, cache: IdCache, gid: int, sid: int, name: str) -> None:
    await delete_events(conn, gid, "stream_id = %(sid)s", {"sid": sid})
    await conn.execute("DELETE FROM logs_streams WHERE id = %s", (sid,))
    cache.streams.pop((gid, name), None)
