"""What the rest of Lambent asks of a log store, whichever database holds the logs.

The invoke path only emits (`LogSink.emit`: synchronous, never waits on storage); the
composition root flushes, sweeps and closes; the Logs API (catalog.py, events.py) runs
the operations below. Two implementations: SQLite in the data dir (store.py, the default)
and PostgreSQL (pg/, `--database`), where every frontend reads what any node wrote. Both
pass tests/contract/test_log_store.py; the shared read logic is in scan.py.

Operations that name a missing group or stream raise the Logs API's domain errors
(errors.py); `now_ms` comes from the caller's clock so both backends stamp alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from lambent.clock import Clock
from lambent.logs.buffer import EventRow
from lambent.logs.scan import EventQuery, GroupRow, StreamEvent
from lambent.logs.sink import LogSink
from lambent.logs.tokens import EventKey
from lambent.settings import LogSettings

# Given a group's explicit retention (None: the server default), the rows to store.
Accept = Callable[[int | None], list[EventRow]]


class LogStore(LogSink, Protocol):
    @property
    def settings(self) -> LogSettings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def dropped(self) -> int:
        """Events dropped because the queue was full (storage too slow or down)."""

    @property
    def queued(self) -> int:
        """Events emitted and not yet written (many while the database is down)."""

    async def flush(self) -> None:
        """Write everything emitted so far (shutdown, tests)."""

    async def sweep(self) -> int:
        """Apply retention (days, max events) to every group now; how many events went."""

    async def close(self) -> None:
        """Flush, stop the background writer, release connections."""

    # groups and streams ------------------------------------------------------------------
    async def create_group(self, account: str, name: str, now_ms: int) -> bool:
        """False if it exists."""

    async def delete_group(self, account: str, name: str) -> bool:
        """False if it does not exist."""

    async def set_retention(self, account: str, name: str, days: int | None) -> bool:
        """False if the group does not exist."""

    async def create_stream(self, account: str, group: str, stream: str, now_ms: int) -> None:
        """Raises GROUP_MISSING or STREAM_EXISTS."""

    async def delete_stream(self, account: str, group: str, stream: str) -> None:
        """Raises GROUP_MISSING or STREAM_MISSING."""

    async def put_events(
        self, account: str, group: str, stream: str, now_ms: int, accept: Accept
    ) -> None:
        """PutLogEvents: store what `accept` keeps, in one transaction with the group's
        retention it was given. Raises GROUP_MISSING or STREAM_MISSING."""

    # reads -------------------------------------------------------------------------------
    async def groups(
        self, account: str, prefix: str, contains: str | None, after: str | None, limit: int
    ) -> list[GroupRow]:
        """Groups by name (bytewise order), after `after`; `contains` is case-insensitive."""

    async def streams(
        self,
        account: str,
        group: str,
        prefix: str,
        by_last_event: bool,
        descending: bool,
        after: list[Any] | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """DescribeLogStreams members (scan.stream_item). Raises GROUP_MISSING."""

    async def stream_events(
        self,
        account: str,
        group: str,
        stream: str,
        window: tuple[int | None, int | None],
        limit: int,
        forward: bool,
        bound: EventKey | None,
    ) -> list[StreamEvent]:
        """Events of one stream in [start, end), after (forward) or before `bound`, in
        ascending order (scan.stream_page). Raises GROUP_MISSING or STREAM_MISSING."""

    async def filter_events(
        self, account: str, group: str, query: EventQuery
    ) -> tuple[list[dict[str, Any]], EventKey | None]:
        """FilterLogEvents (scan.FilterScan): the page and the key to resume after."""
