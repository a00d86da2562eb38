"""One status line on stderr: upload bytes and a spinner while waiting on the server.

On a terminal the line is redrawn in place (`\\r`) a few times a second. When the user asks
for progress without a terminal (`--progress` into a log file), each update is its own line
and updates are rarer, so logs stay readable. Disabled, every call is a no-op, so callers
never branch on whether progress is wanted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

SPINNER = "|/-\\"
TTY_INTERVAL_S = 0.1
LOG_INTERVAL_S = 2.0


def human_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


class StatusLine:
    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool,
        in_place: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._enabled = enabled
        self._in_place = in_place
        self._clock = clock
        self._interval = TTY_INTERVAL_S if in_place else LOG_INTERVAL_S
        self._last_draw: float | None = None
        self._width = 0
        self._frame = 0

    @classmethod
    def for_stream(cls, stream: TextIO, *, forced: bool) -> StatusLine:
        tty = stream.isatty()
        return cls(stream, enabled=forced or tty, in_place=tty)

    def upload(self, sent: int, total: int) -> None:
        pct = 100 if total == 0 else sent * 100 // total
        text = f"uploading {human_bytes(sent)} / {human_bytes(total)} ({pct}%)"
        self._draw(text, force=sent >= total)

    def spin(self, text: str) -> None:
        self._frame = (self._frame + 1) % len(SPINNER)
        frame = SPINNER[self._frame] + " " if self._in_place else ""
        self._draw(frame + text, force=False)

    def clear(self) -> None:
        """Erase the line, so what is printed next starts at column 0."""
        if self._enabled and self._in_place and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
        self._width = 0
        self._last_draw = None

    def _draw(self, text: str, *, force: bool) -> None:
        if not self._enabled:
            return
        now = self._clock()
        if not force and self._last_draw is not None and now - self._last_draw < self._interval:
            return
        self._last_draw = now
        if self._in_place:
            pad = max(0, self._width - len(text))
            self._stream.write("\r" + text + " " * pad)
            self._width = len(text)
        else:
            self._stream.write(text + "\n")
        self._stream.flush()
