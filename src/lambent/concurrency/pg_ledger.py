"""The admission ledger in PostgreSQL: one row per (pool, node) holding tokens with a lease.

A grant is one round trip to `admission_take`, a function that serializes grants of one
pool on a transaction-scoped advisory lock (other pools never wait), drops holds whose
lease lapsed by the server's clock, and grants at most the capacity minus what live holds
still have. Giving back and renewing only lower or extend rows, so they take no lock.
Signals travel on `pg_notify` on a channel named after the schema, so clusters (and
tests) sharing one database never hear each other; one dedicated connection listens and
reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, LiteralString, cast

import psycopg
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from lambent.concurrency.ledger import LedgerUnavailable, SignalKind, SignalListener
from lambent.pg.connect import CONNECT_TIMEOUT_S, open_pool
from lambent.pg.migrations import Migration, migrate

log = logging.getLogger(__name__)
COMPONENT = "admission"
RECONNECT_PAUSE_S = 0.5

_SCHEMA: LiteralString = """
CREATE TABLE admission_holds (
    pool text NOT NULL,
    node text NOT NULL,
    tokens integer NOT NULL CHECK (tokens >= 0),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (pool, node)
);
CREATE INDEX admission_holds_node ON admission_holds (node);
CREATE FUNCTION admission_take(p_pool text, p_node text, p_want integer,
                               p_capacity integer, p_lease_ms integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    held integer;
    granted integer;
BEGIN
    -- One grant of a pool at a time (two-key form: apart from the migrations' lock).
    PERFORM pg_advisory_xact_lock(1094995278, hashtext(p_pool));
    DELETE FROM admission_holds WHERE pool = p_pool AND expires_at <= clock_timestamp();
    SELECT coalesce(sum(tokens), 0) INTO held FROM admission_holds WHERE pool = p_pool;
    granted := greatest(0, least(p_want, p_capacity - held));
    INSERT INTO admission_holds AS h (pool, node, tokens, expires_at)
    VALUES (p_pool, p_node, granted, clock_timestamp() + p_lease_ms * interval '1 millisecond')
    ON CONFLICT (pool, node) DO UPDATE
        SET tokens = h.tokens + EXCLUDED.tokens, expires_at = EXCLUDED.expires_at;
    RETURN granted;
END
$$;
"""
# The scaling limit's buckets, one per function: exact across the cluster, one round trip
# per new environment (docs/CLUSTER.md, "The scaling limit").
_BUCKETS: LiteralString = """
CREATE TABLE admission_buckets (
    key text PRIMARY KEY,
    tokens double precision NOT NULL,
    stamp timestamptz NOT NULL
);
"""
MIGRATIONS = [Migration(1, _SCHEMA), Migration(2, _BUCKETS)]

# Refill since the last take, capped; the row is updated (and returned) only if a whole
# token is there, under the row's lock, so concurrent takes on any node serialize.
_BURST: LiteralString = """
INSERT INTO admission_buckets AS b (key, tokens, stamp)
VALUES (%(key)s, %(cap)s - 1, clock_timestamp())
ON CONFLICT (key) DO UPDATE
SET tokens = least(%(cap)s, b.tokens
                   + greatest(0, extract(epoch FROM EXCLUDED.stamp - b.stamp)) * %(rate)s) - 1,
    stamp = EXCLUDED.stamp
WHERE least(%(cap)s, b.tokens
            + greatest(0, extract(epoch FROM EXCLUDED.stamp - b.stamp)) * %(rate)s) >= 1
RETURNING tokens
"""

Pool = AsyncConnectionPool[AsyncConnection[tuple[Any, ...]]]


class PgLedger:
    def __init__(self, url: str, pool: Pool, channel: str) -> None:
        self._url = url
        self._pool = pool
        self._channel = channel
        self._listeners: list[SignalListener] = []
        self._listening: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @classmethod
    async def open(cls, url: str, *, max_size: int = 2, listen: bool = True) -> PgLedger:
        """`listen=False`: no connection for signals (a node that only takes from the
        scaling limit's buckets)."""
        pool: Pool = await open_pool(url, name="admission", min_size=1, max_size=max_size)
        try:
            await migrate(pool, COMPONENT, MIGRATIONS)
            async with pool.connection() as conn:
                cur = await conn.execute("SELECT current_schema()")
                row = await cur.fetchone()
        except BaseException:
            await pool.close()
            raise
        schema = str(row[0]) if row else "public"
        ledger = cls(url, pool, f"admission_{schema}"[:63])
        if listen:
            ledger._listening = asyncio.create_task(ledger._listen(), name="admission-listen")
        return ledger

    async def wait_listening(self) -> None:
        """Until the LISTEN is in place (a signal sent before it is not heard)."""
        await self._ready.wait()

    async def _call(self, query: LiteralString, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(query, params)
                return await cur.fetchall() if cur.description else []
        except (psycopg.Error, TimeoutError) as exc:
            raise LedgerUnavailable(str(exc)) from exc

    async def take(self, node: str, pool: str, want: int, capacity: int, lease_s: float) -> int:
        rows = await self._call(
            "SELECT admission_take(%s, %s, %s, %s, %s)",
            (pool, node, want, capacity, max(1, int(lease_s * 1000))),
        )
        return int(rows[0][0])

    async def give(self, node: str, pool: str, count: int) -> None:
        await self._call(
            "UPDATE admission_holds SET tokens = greatest(0, tokens - %s)"
            " WHERE pool = %s AND node = %s",
            (count, pool, node),
        )

    async def renew(self, node: str, lease_s: float) -> dict[str, int]:
        rows = await self._call(
            "UPDATE admission_holds SET expires_at = clock_timestamp() + %s * interval '1 ms'"
            " WHERE node = %s AND expires_at > clock_timestamp() RETURNING pool, tokens",
            (max(1, int(lease_s * 1000)), node),
        )
        return {str(pool): int(tokens) for pool, tokens in rows}

    async def drop(self, node: str) -> None:
        await self._call("DELETE FROM admission_holds WHERE node = %s", (node,))

    async def held(self, pool: str) -> int:
        rows = await self._call(
            "SELECT coalesce(sum(tokens), 0) FROM admission_holds"
            " WHERE pool = %s AND expires_at > clock_timestamp()",
            (pool,),
        )
        return int(rows[0][0])

    async def burst(self, key: str, capacity: int, rate: float) -> bool:
        if capacity < 1:
            return False
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(_BURST, {"key": key, "cap": capacity, "rate": rate})
                return await cur.fetchone() is not None
        except (psycopg.Error, TimeoutError) as exc:
            raise LedgerUnavailable(str(exc)) from exc

    async def signal(self, kind: SignalKind, pool: str, node: str) -> None:
        await self._call("SELECT pg_notify(%s, %s)", (self._channel, f"{kind}|{node}|{pool}"))

    def subscribe(self, listener: SignalListener) -> None:
        self._listeners.append(listener)

    async def _listen(self) -> None:
        """One connection LISTENs; a lost one is reopened (signals meanwhile are lost,
        which costs latency only: askers retry within their bound)."""
        while True:
            try:
                conn = await AsyncConnection.connect(
                    self._url,
                    autocommit=True,
                    connect_timeout=int(CONNECT_TIMEOUT_S),
                    application_name="lambent-admission-listen",
                )
                async with conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self._ready.set()
                    async for note in conn.notifies():
                        self._heard(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server went away: reconnect
                log.warning("admission: listening connection lost (%s); reconnecting", exc)
            await asyncio.sleep(RECONNECT_PAUSE_S)

    def _heard(self, payload: str) -> None:
        kind, node, pool = payload.split("|", 2)
        if kind not in ("ask", "ret"):
            return
        for listener in self._listeners:
            listener(cast(SignalKind, kind), pool, node)

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
        await self._pool.close()
