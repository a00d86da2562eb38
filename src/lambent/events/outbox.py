"""The durable outbox of accepted events: store documents, so SQLite and PostgreSQL alike.

PutEvents writes every accepted event here in one transaction before it answers: a server
SIGKILLed after the 200 delivers them after its restart. A document holds the event, its
bus, and once matched the deliveries still to make (rule, target, attempts, next time).
A node claims documents for `lease_s` in a store transaction (writers take turns in the
store, on every node of a cluster), so each event is worked by one node at a time; a dead
node's claims lapse and another node takes them: at least once, never lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lambent.store.interface import Doc, Store

OUTBOX = "events_outbox"
_ACCOUNT = ""  # one outbox for every account: the dispatcher serves them all


@dataclass
class Entry:
    key: str
    doc: Doc

    @property
    def pending(self) -> list[dict[str, Any]] | None:
        """None until matched; then the deliveries not yet made."""
        return self.doc.get("pending")


class Outbox:
    def __init__(self, store: Store, node_id: str) -> None:
        self._store = store
        self._node = node_id or str(uuid.uuid4())

    async def add(self, items: Sequence[Doc], now: float) -> None:
        """Each item: {"event", "account", "bus", "region", ...}; one transaction."""
        async with self._store.transaction():
            for item in items:
                doc = {**item, "accepted": now, "due": now, "lease": 0.0, "owner": ""}
                key = f"{int(now * 1000):013d}:{uuid.uuid4().hex}"
                await self._store.put(OUTBOX, _ACCOUNT, key, doc)

    async def claim(self, now: float, lease_s: float, limit: int) -> tuple[list[Entry], float]:
        """Up to `limit` due, unclaimed (or lapsed) entries, claimed for this node; and
        the earliest time another becomes due (inf if none)."""
        claimed: list[Entry] = []
        earliest = float("inf")
        async with self._store.transaction():
            for row in await self._store.list(OUTBOX, _ACCOUNT):
                doc = row.doc
                ready = max(doc["due"], doc["lease"])
                if ready > now:
                    earliest = min(earliest, ready)
                    continue
                if len(claimed) >= limit:
                    earliest = now
                    break
                doc = {**doc, "lease": now + lease_s, "owner": self._node}
                await self._store.put(OUTBOX, _ACCOUNT, row.key, doc)
                claimed.append(Entry(row.key, doc))
        return claimed, earliest

    async def recover(self) -> int:
        """At start: this node's claims from before a crash are free again at once (another
        node's lapse after their lease)."""
        freed = 0
        async with self._store.transaction():
            for row in await self._store.list(OUTBOX, _ACCOUNT):
                if row.doc.get("owner") == self._node:
                    doc = {**row.doc, "lease": 0.0, "owner": ""}
                    await self._store.put(OUTBOX, _ACCOUNT, row.key, doc)
                    freed += 1
        return freed

    async def settle(self, entries: Sequence[Entry], now: float) -> None:
        """Write back what is left to deliver (or remove each entry), for the entries still
        ours; one transaction for the whole batch."""
        async with self._store.transaction():
            for entry in entries:
                await self._settle_one(entry, now)

    async def _settle_one(self, entry: Entry, now: float) -> None:
        current = await self._store.get(OUTBOX, _ACCOUNT, entry.key)
        if current is None or current.get("owner") != self._node:
            return  # our lease lapsed and another node took it over
        pending = entry.pending
        if pending is not None and not pending:
            await self._store.delete(OUTBOX, _ACCOUNT, entry.key)
            return
        due = min((p["due"] for p in pending or ()), default=now)
        doc = {**entry.doc, "due": due, "lease": 0.0, "owner": ""}
        await self._store.put(OUTBOX, _ACCOUNT, entry.key, doc)

    async def count(self) -> int:
        return len(await self._store.list(OUTBOX, _ACCOUNT))
