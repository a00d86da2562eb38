"""Every queue-service backend the SQS contract suite runs against, and how to open each:
SQLite (a file in the test's directory) and PostgreSQL (the test's own schema, marked
`services`). Opening again reopens the same data (a restart, or a second node on PG)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from lambent.sqs import attributes
from lambent.sqs.backend import QueueBackend
from lambent.sqs.model import NewMessage, QueueRecord

T0 = 1_700_000_000_000  # ms
HANG_S = 30.0
ACCOUNT = "123456789012"

Opener = Callable[[], Awaitable[QueueBackend]]

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.services),
]


def opener_for(name: str, tmp: Path, request: pytest.FixtureRequest) -> Opener:
    if name == "sqlite":
        from lambent.sqs.sqlite import SqliteQueues

        async def sqlite() -> QueueBackend:
            return SqliteQueues(tmp / "sqs.db")

        return sqlite
    url = str(request.getfixturevalue("pg_url"))
    from lambent.sqs.postgres import PgQueues

    async def pg() -> QueueBackend:
        return await PgQueues.open(url, node_id=f"node-{uuid.uuid4().hex[:6]}", pool_size=3)

    return pg


def queue(name: str = "q", fifo: bool = False, **attrs: str) -> QueueRecord:
    return QueueRecord(
        id=uuid.uuid4().hex,
        account=ACCOUNT,
        region="us-east-1",
        name=name,
        created_ms=T0,
        modified_ms=T0,
        attributes={**attributes.defaults(fifo), **attrs},
    )


def message(body: str, at: int = T0, **kw: Any) -> NewMessage:
    values: dict[str, Any] = {
        "message_id": str(uuid.uuid4()),
        "body": body,
        "attributes": "",
        "md5_body": "",
        "md5_attributes": "",
        "system": "",
        "md5_system": "",
        "group_id": None,
        "dedup_id": None,
        "sent_ms": at,
        "visible_at_ms": at,
        "expires_ms": at + 345_600_000,
    }
    values.update(kw)
    return NewMessage(**values)
