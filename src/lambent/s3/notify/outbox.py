"""The notifications outbox: store documents written in the object write's transaction,
so a notification survives a SIGKILL between the write and its delivery (SQLite and
PostgreSQL alike). A node claims rows for `lease_s` in a store transaction, so in a
cluster each row is worked by one node at a time; a dead node's claims lapse and another
takes them: at least once, never lost."""

from __future__ import annotations

import uuid
from typing import Any

from lambent.store.interface import Doc, Row, Store

OUTBOX = "s3_notify_outbox"
_ACCOUNT = ""  # one outbox for every account


class NotifyOutbox:
    def __init__(self, store: Store, node_id: str) -> None:
        self._store = store
        self._node = node_id or str(uuid.uuid4())

    async def add(self, target: dict[str, Any], event: dict[str, Any], now: float) -> None:
        """Call inside the object write's transaction."""
        key = f"{int(now * 1000):013d}:{uuid.uuid4().hex}"
        doc = {"target": target, "event": event, "lease": 0.0, "owner": ""}
        await self._store.put(OUTBOX, _ACCOUNT, key, doc)

    async def claim(self, now: float, lease_s: float, limit: int) -> list[Row]:
        claimed: list[Row] = []
        async with self._store.transaction():
            for row in await self._store.list(OUTBOX, _ACCOUNT):
                if row.doc["lease"] > now:
                    continue
                doc: Doc = {**row.doc, "lease": now + lease_s, "owner": self._node}
                await self._store.put(OUTBOX, _ACCOUNT, row.key, doc)
                claimed.append(Row(row.key, doc))
                if len(claimed) >= limit:
                    break
        return claimed

    async def done(self, key: str) -> None:
        await self._store.delete(OUTBOX, _ACCOUNT, key)

    async def count(self) -> int:
        return len(await self._store.list(OUTBOX, _ACCOUNT))
