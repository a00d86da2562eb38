"""Opening pools on one database URL.

The URL is libpq's (`postgresql://user@host:port/db?options=-csearch_path%3Dname`), so a
deployment, a test or a second cluster on one server picks its schema in the URL alone.
"""

from __future__ import annotations

from psycopg import AsyncConnection, OperationalError
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from lambent.pg import DatabaseUnreachable

__all__ = ["CONNECT_TIMEOUT_S", "DatabaseUnreachable", "describe", "open_pool", "probe"]

# A connection that cannot be made in this long is an outage: callers get a 5xx, not a hang.
CONNECT_TIMEOUT_S = 5.0


def describe(url: str) -> str:
    """Where a URL points, without its password: user@host:port/dbname."""
    try:
        info = conninfo_to_dict(url)
    except Exception:
        return "the configured database"
    user = f"{info['user']}@" if info.get("user") else ""
    port = f":{info['port']}" if info.get("port") else ""
    return f"{user}{info.get('host') or 'localhost'}{port}/{info.get('dbname') or ''}"


async def probe(url: str) -> None:
    """Connect once, so an unreachable server is reported at once with libpq's reason."""
    try:
        conn = await AsyncConnection.connect(url, connect_timeout=int(CONNECT_TIMEOUT_S))
    except OperationalError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        where = describe(url)
        raise DatabaseUnreachable(f"cannot connect to PostgreSQL at {where}: {reason}") from None
    await conn.close()


# How long a connection beyond a pool's min_size may stay unused before it is closed.
IDLE_CLOSE_S = 30.0


async def open_pool(
    url: str,
    *,
    name: str,
    min_size: int = 1,
    max_size: int = 2,
    timeout_s: float = 10.0,
    check: bool = False,
) -> AsyncConnectionPool[AsyncConnection[tuple[object, ...]]]:
    """An open pool of autocommit connections; `timeout_s` bounds the wait for one.

    Autocommit: a statement outside `async with conn.transaction()` commits on its own, so
    no connection is handed back to the pool with a transaction left open. A server that
    cannot be reached raises DatabaseUnreachable. `check`: a connection is tried (one empty
    round trip) before it is lent, so one the server dropped (a restart, a terminated
    backend) is replaced instead of failing the caller's statement."""
    await probe(url)
    pool: AsyncConnectionPool[AsyncConnection[tuple[object, ...]]] = AsyncConnectionPool(
        url,
        name=f"lambent-{name}",
        min_size=min_size,
        max_size=max_size,
        timeout=timeout_s,
        open=False,
        kwargs={
            "autocommit": True,
            "row_factory": tuple_row,
            "connect_timeout": int(CONNECT_TIMEOUT_S),
            "application_name": f"lambent-{name}",
        },
        reconnect_timeout=3600.0,
        # Connections past min_size are closed after this long unused: a node holds only
        # what its traffic needs, not the peak it once saw (docs/CLUSTER.md, "Connections").
        max_idle=IDLE_CLOSE_S,
        check=AsyncConnectionPool.check_connection if check else None,
    )
    await pool.open(wait=True, timeout=timeout_s)
    return pool
