"""Where function logs go: the interface the invoke path writes to.

`emit` never blocks the event loop on disk: implementations buffer and flush in batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LogEvent:
    timestamp_ms: int
    message: str


class LogSink(Protocol):
    def emit(self, account_id: str, group: str, stream: str, events: list[LogEvent]) -> None:
        """Queue events for (group, stream), creating both on first use. Never waits on
        storage: it runs on the event loop for every invocation."""
