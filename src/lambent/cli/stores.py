"""The store an operator's command (`lambent accounts`, `lambent signing-profiles`) opens:
the server's own, SQLite in its data dir or the PostgreSQL it was started with."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from lambent.pg import DatabaseUnreachable
from lambent.store.interface import Store
from lambent.store.select import STATE_DB, open_store

ENV_VAR = "LAMBENT_DATABASE_URL"


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        default=os.environ.get(ENV_VAR) or None,
        metavar="URL",
        help="the PostgreSQL the server was started with (lambent serve --database; default: "
        f"${ENV_VAR}); without it, the data dir's SQLite",
    )


async def open_for(command: str, data_dir: Path, database_url: str | None) -> Store:
    """The server's store, or SystemExit with one line saying why not."""
    if database_url is None and not (data_dir / STATE_DB).exists():
        raise SystemExit(f"{command}: {data_dir} is not a lambent data dir")
    os.umask(0o077)  # a WAL this process creates is private, as the server's are
    try:
        return await open_store(data_dir, database_url)
    except DatabaseUnreachable as exc:
        raise SystemExit(f"{command}: {exc}") from None
