"""Which store a server (or an operator's command) opens: PostgreSQL when a database URL
is given (cluster mode, shared by every node), else SQLite in the data dir."""

from __future__ import annotations

from pathlib import Path

from lambent.store.interface import Store
from lambent.store.sqlite import SqliteStore

STATE_DB = "state.db"


async def open_store(data_dir: Path, database_url: str | None) -> Store:
    """Open (and migrate) the store; PostgreSQL that cannot be reached raises
    `lambent.pg.connect.DatabaseUnreachable`."""
    if database_url is None:
        return SqliteStore(data_dir / STATE_DB)
    from lambent.store.postgres import PostgresStore  # psycopg only where it is used

    return await PostgresStore.open(database_url)
