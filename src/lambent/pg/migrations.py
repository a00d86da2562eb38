"""Versioned schema migrations, applied at start.

Each backend names itself (a component) and lists its steps in order; step N is applied
once, in a transaction with its record in `lambent_migrations`. Nodes starting together
serialize on an advisory lock, so two of them never apply the same step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, LiteralString

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

# pg_advisory_xact_lock key for migrations: any constant, the same on every node.
_LOCK = 0x4C414D42  # "LAMB"

_TABLE: LiteralString = """
CREATE TABLE IF NOT EXISTS lambent_migrations (
    component text NOT NULL,
    version integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)
"""


@dataclass(frozen=True)
class Migration:
    version: int  # 1, 2, 3, ... in order; never renumbered once released
    sql: LiteralString  # one or more statements


async def migrate(
    pool: AsyncConnectionPool[AsyncConnection[Any]],
    component: str,
    steps: Sequence[Migration],
) -> list[int]:
    """Apply the steps of `component` not yet applied; the versions applied now."""
    versions = [s.version for s in steps]
    if versions != list(range(1, len(steps) + 1)):
        raise ValueError(f"{component}: migrations must be numbered 1..N, got {versions}")
    applied: list[int] = []
    async with pool.connection() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        await conn.execute(_TABLE)
        cur = await conn.execute(
            "SELECT version FROM lambent_migrations WHERE component = %s", (component,)
        )
        done = {row[0] for row in await cur.fetchall()}
        for step in steps:
            if step.version in done:
                continue
            await conn.execute(step.sql)
            await conn.execute(
                "INSERT INTO lambent_migrations (component, version) VALUES (%s, %s)",
                (component, step.version),
            )
            applied.append(step.version)
    return applied
