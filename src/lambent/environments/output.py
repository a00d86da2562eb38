"""Reads an environment's stdout+stderr pipe and turns it into log events.

Lines are attributed to whatever the environment is doing when they are read: the init
phase, or the invocation in flight. A runtime writes its output before it posts the
response, so `drain()` at the end of an invocation picks up everything the invocation
printed. Each CloudWatch event keeps its trailing newline, as Lambda's do.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable

MAX_LINE = 256 * 1024  # CloudWatch's event size limit; longer lines are split


class OutputCapture:
    def __init__(self, fd: int, on_lines: Callable[[list[str]], None]) -> None:
        self._fd = fd
        self._on_lines = on_lines
        self._partial = b""
        self._closed = False
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        self._read_available(final=False)

    def _read_available(self, *, final: bool) -> None:
        chunks: list[bytes] = []
        while not self._closed:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                self._stop()
                break
            if not data:
                self._stop()
                break
            chunks.append(data)
            if len(data) < 65536:
                break
        if chunks or final:
            self._emit(b"".join(chunks), final=final or self._closed)

    def _emit(self, data: bytes, *, final: bool) -> None:
        buf = self._partial + data
        lines: list[str] = []
        start = 0
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                break
            lines.append(buf[start : nl + 1].decode("utf-8", "replace"))
            start = nl + 1
        rest = buf[start:]
        while len(rest) > MAX_LINE:
            lines.append(rest[:MAX_LINE].decode("utf-8", "replace"))
            rest = rest[MAX_LINE:]
        if final and rest:
            lines.append(rest.decode("utf-8", "replace") + "\n")
            rest = b""
        self._partial = rest
        if lines:
            self._on_lines(lines)

    def drain(self, *, flush_partial: bool = True) -> None:
        """Attribute everything already written, including an unterminated last line."""
        self._read_available(final=flush_partial)

    def _stop(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._fd)

    def close(self) -> None:
        self.drain()
        self._stop()
