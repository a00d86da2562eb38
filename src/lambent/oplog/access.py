"""The access log: one line per HTTP request on the API endpoint (`--access-log`).

Fields: client address, method, path, status, body bytes, duration, request id, service and
operation, in the operator log's text or JSON format (same `time`, `level`, `logger`,
`event`, `message` keys). No secret reaches it: the path is logged without its query string
(S3 presigned URLs carry signatures and security tokens there), and a code download link's
path, which is itself the signed token (GetFunction's Code.Location), is logged as its
prefix only.

This is on the hot path, so it does not go through `logging` (a LogRecord, the generic
formatter and a write per line cost ~25 µs; this costs a few): each line is formatted
directly and buffered, and the buffer is written every `flush_interval_s` (and at stop),
one write for however many requests came in meanwhile. The write itself happens on the
access log's own thread: stderr is often a pipe, and a reader that falls behind (a log
shipper, a busy terminal) fills it, after which a write blocks until the reader catches
up. On the event loop that would stall every request in flight; on the thread it delays
only the log. Off by default; when off, the dispatcher does not even read the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import sys
import threading
import time
from typing import TextIO

from lambent.functions.code_url import PREFIX as CODE_URL_PREFIX
from lambent.http.messages import Request, Response
from lambent.settings import OperatorLogSettings

LOGGER = "lambent.access"
# Paths that are bearer capabilities: logged up to the prefix.
SECRET_PATHS = (CODE_URL_PREFIX,)
FLUSH_INTERVAL_S = 0.05
# Bounds only a hang at stop: the writer's last write is a few kilobytes.
CLOSE_TIMEOUT_S = 10.0

_quote = json.JSONEncoder(ensure_ascii=False).encode


class AccessLog:
    def __init__(
        self, fmt: str, stream: TextIO, flush_interval_s: float = FLUSH_INTERVAL_S
    ) -> None:
        self._json = fmt == "json"
        self._stream = stream
        self._interval = flush_interval_s
        self._pending: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._second = -1
        self._stamp = ""
        self._writes: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: OperatorLogSettings) -> AccessLog | None:
        return cls(settings.format, sys.stderr) if settings.access_log else None

    def _time(self, now: float) -> str:
        whole = int(now)
        if whole != self._second:  # strftime once a second, not once a request
            self._second = whole
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        return f"{self._stamp}.{int((now - whole) * 1000):03d}Z"

    def record(
        self,
        req: Request,
        resp: Response,
        began: float,
        request_id: str | None,
        service: str | None,
        operation: str | None,
    ) -> None:
        duration_ms = round((time.perf_counter() - began) * 1000.0, 3)
        if request_id is None:
            request_id = resp.header("x-amzn-RequestId")
        # Body bytes sent; unknown ahead for a streamed (chunked) body.
        size = None if resp.stream is not None else len(resp.body)
        path = req.raw_path
        for prefix in SECRET_PATHS:
            if path.startswith(prefix):
                path = prefix + "[redacted]"
        client = req.peer[0] if req.peer else None
        message = (
            f'{client or "-"} "{req.method} {path}" {resp.status} '
            f"{'-' if size is None else size} {duration_ms:.3f}ms "
            f"{operation or '-'} {request_id or '-'}"
        )
        stamp = self._time(time.time())
        if self._json:
            line = (
                f'{{"time":"{stamp}","level":"INFO","logger":"{LOGGER}",'
                f'"event":"http.request","message":{_quote(message)},'
                f'"client":{_quote(client)},"method":{_quote(req.method)},'
                f'"path":{_quote(path)},"status":{resp.status},'
                f'"bytes":{"null" if size is None else size},"duration_ms":{duration_ms},'
                f'"request_id":{_quote(request_id)},"service":{_quote(service)},'
                f'"operation":{_quote(operation)}}}\n'
            )
        else:
            line = f"{stamp} INFO {LOGGER}: {message}\n"
        self._pending.append(line)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._interval, self.flush)

    def flush(self) -> None:
        """Hand what is buffered to the writer thread (the timer does it); never waits."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            data = "".join(self._pending)
            self._pending.clear()
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_forever, name="lambent-access-log", daemon=True
                )
                self._writer.start()
            self._writes.put(data)

    def close(self) -> None:
        """Flush, then wait (bounded) until everything handed over is written."""
        self.flush()
        writer, self._writer = self._writer, None
        if writer is not None:
            self._writes.put(None)
            writer.join(CLOSE_TIMEOUT_S)

    def _write_forever(self) -> None:
        while (data := self._writes.get()) is not None:
            with contextlib.suppress(OSError, ValueError):  # a closed stderr loses the log only
                self._stream.write(data)
                self._stream.flush()
