"""Opening pools on one database URL.

The URL is libpq's (`postgresql://user@host:port/db?options=-csearch_path%3Dname`), so a
deployment, a test or a second cluster on one server picks its schema in the URL alone.
"""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

# A connection that cannot be made in this long is an outage: callers get a 5xx, not a hang.
CONNECT_TIMEOUT_S = 5.0


async def open_pool(
    url: str, *, name: str, min_size: int = 1, max_size: int = 8, timeout_s: float = 10.0
) -> AsyncConnectionPool[AsyncConnection[tuple[object, ...]]]:
    """An open pool of autocommit connections; `timeout_s` bounds the wait for one.

    Autocommit: a statement outside `async with conn.transaction()` commits on its own, so
    no connection is handed back to the pool with a transaction left open."""
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
    )
    await pool.open(wait=True, timeout=timeout_s)
    return pool
