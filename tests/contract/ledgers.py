"""Admission ledgers to run the same tests against: memory (one process) and PostgreSQL.

A `Ledgers` opens one ledger object per node on shared state: the memory one hands every
node the same `MemoryLedger`; the PostgreSQL one opens a `PgLedger` (its own pool and
listening connection) per node on one fresh schema, as separate processes would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from lambent.clock import SystemClock
from lambent.concurrency.ledger import Ledger, MemoryLedger
from lambent.concurrency.pg_ledger import PgLedger


class Ledgers:
    def __init__(self, url: str | None) -> None:
        self._url = url
        self._memory = MemoryLedger(SystemClock())
        self._opened: list[PgLedger] = []

    async def node(self) -> Ledger:
        """A ledger for one more node, listening for signals already."""
        if self._url is None:
            return self._memory
        ledger = await PgLedger.open(self._url, max_size=3)
        self._opened.append(ledger)
        await ledger.wait_listening()
        return ledger

    async def close(self) -> None:
        for ledger in self._opened:
            await ledger.close()


@asynccontextmanager
async def opened(url: str | None) -> AsyncIterator[Ledgers]:
    ledgers = Ledgers(url)
    try:
        yield ledgers
    finally:
        await ledgers.close()
