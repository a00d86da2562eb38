"""Every log store the contract suite runs against, and how to open each (the `logs`
fixture of test_log_store.py).

A test opens as many stores as it wants on one place (one SQLite file, one PostgreSQL
schema): that is how two nodes writing and a third reading are modelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lambent.clock import ManualClock
from lambent.logs.interface import LogStore
from lambent.logs.pg.store import PgLogStore
from lambent.logs.store import SqliteLogStore
from lambent.settings import LogSettings

LOG_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.services),
]


@dataclass
class Opener:
    kind: str
    where: Path | str  # the SQLite file, or the PostgreSQL URL
    clock: ManualClock = field(default_factory=ManualClock)
    opened: list[LogStore] = field(default_factory=list)

    async def __call__(
        self, *, background: bool = False, max_queued_events: int | None = None, **settings: Any
    ) -> LogStore:
        """A store on this place; flushes only when told unless `background`."""
        config = LogSettings(**{"flush_interval_s": 3600.0, **settings})
        extra: dict[str, Any] = {}
        if max_queued_events is not None:
            extra["max_queued_events"] = max_queued_events
        store: LogStore
        if isinstance(self.where, Path):
            store = SqliteLogStore(self.where, config, self.clock, background=background, **extra)
        else:
            store = await PgLogStore.open(
                self.where, config, self.clock, background=background, **extra
            )
        self.opened.append(store)
        return store
