"""Function logs on disk (SQLite, its own file), written in batches, read by the Logs API."""

from __future__ import annotations

from pathlib import Path

from lambent.clock import Clock
from lambent.logs.sink import LogEvent
from lambent.settings import LogSettings


class LogStore:
    def __init__(self, path: Path, settings: LogSettings, clock: Clock) -> None:
        self._path = path
        self._settings = settings
        self._clock = clock

    def emit(self, account_id: str, group: str, stream: str, events: list[LogEvent]) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass
