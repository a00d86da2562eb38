"""The operator log's formats, its configuration, and the access log's fields."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import threading
import time
from collections.abc import Iterator

import pytest

from lambent.http.messages import Request, Response
from lambent.oplog import event
from lambent.oplog.access import AccessLog
from lambent.oplog.configure import configure
from lambent.settings import OperatorLogSettings

HANG_S = 10.0  # a write here takes microseconds; only a hang waits this long


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:], root.level = saved


def test_json_lines_carry_the_event_and_its_fields(restore_logging: None) -> None:
    out = io.StringIO()
    configure(OperatorLogSettings(level="INFO", format="json"), out)
    log = logging.getLogger("lambent.test")
    event(log, logging.WARNING, "function.timeout", "f timed out", request_id="r1", extra=None)
    event(log, logging.DEBUG, "environment.started", "not at INFO")
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        event(log, logging.ERROR, "http.internal_error", "oops", exc_info=True, request_id="r2")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2  # one line per record, even with a multi-line traceback
    first, second = (json.loads(line) for line in lines)
    assert first["event"] == "function.timeout" and first["request_id"] == "r1"
    assert first["level"] == "WARNING" and first["logger"] == "lambent.test"
    assert first["message"] == "f timed out" and first["time"].endswith("Z")
    assert "extra" not in first  # fields that are None are left out
    assert "ValueError: bad\nthing" in second["exception"]


def test_text_lines_and_the_level(restore_logging: None) -> None:
    out = io.StringIO()
    configure(OperatorLogSettings(level="debug", format="text"), out)
    event(logging.getLogger("lambent.x"), logging.DEBUG, "a.b", "hello %s", "you", k=1)
    line = out.getvalue().rstrip("\n")
    assert line.endswith(" DEBUG lambent.x: hello you [a.b] k=1")


def test_access_log_only_when_asked() -> None:
    assert AccessLog.from_settings(OperatorLogSettings(access_log=False)) is None
    assert AccessLog.from_settings(OperatorLogSettings(access_log=True)) is not None


def request(path: str, query: str = "") -> Request:
    req = Request("GET", path, query, {}, b"")
    req.peer = ("10.0.0.7", 5555)
    return req


def test_access_lines_are_buffered_and_keep_secrets_out() -> None:
    out = io.StringIO()

    async def two_requests() -> None:
        log = AccessLog("json", out, flush_interval_s=0.01)
        began = time.perf_counter()
        resp = Response(200, b"12345", [("x-amzn-RequestId", "rid-1")])
        log.record(request("/_lambent/code/eyJzIjoi.c2ln"), resp, began, None, None, None)
        weird = request('/b/"quoted"\\key', "X-Amz-Signature=abc&X-Amz-Security-Token=tok")
        log.record(weird, Response(403), began, "rid-2", "s3", "GetObject")
        assert out.getvalue() == ""  # buffered until the timer
        await asyncio.sleep(0.05)
        await asyncio.to_thread(log.close)  # its writer thread has written everything

    asyncio.run(two_requests())
    first, second = (json.loads(text) for text in out.getvalue().splitlines())
    assert first["event"] == "http.request" and first["logger"] == "lambent.access"
    assert first["path"] == "/_lambent/code/[redacted]"
    assert (first["status"], first["bytes"], first["request_id"]) == (200, 5, "rid-1")
    assert first["client"] == "10.0.0.7" and first["operation"] is None
    assert second["path"] == '/b/"quoted"\\key'
    assert (second["service"], second["operation"], second["status"]) == ("s3", "GetObject", 403)
    for secret in ("c2ln", "abc", "tok"):
        assert secret not in out.getvalue()


def test_access_text_line() -> None:
    out = io.StringIO()

    async def one() -> None:
        log = AccessLog("text", out)
        log.record(request("/health"), Response(200, b"ok"), time.perf_counter(), "r", None, None)
        log.close()

    asyncio.run(one())
    pattern = r'\S+Z INFO lambent\.access: 10\.0\.0\.7 "GET /health" 200 2 [\d.]+ms - r\n'
    assert re.fullmatch(pattern, out.getvalue())


def test_a_stalled_stderr_never_blocks_the_event_loop() -> None:
    """stderr is often a pipe; once its reader falls behind, a write blocks. The access log
    writes from its own thread: while the stream is stuck, the loop keeps taking requests
    and hands their lines over without waiting, and every line arrives, in order."""
    gate = threading.Event()
    writing = threading.Event()
    writers: list[int] = []

    class StalledPipe(io.StringIO):
        def write(self, s: str) -> int:
            writers.append(threading.get_ident())
            writing.set()
            gate.wait(HANG_S)
            return super().write(s)

    out = StalledPipe()

    async def requests_while_stalled() -> None:
        log = AccessLog("text", out)
        loop_thread = threading.get_ident()
        log.record(request("/first"), Response(200), time.perf_counter(), "r1", None, None)
        log.flush()  # returns although the write is stuck
        assert await asyncio.to_thread(writing.wait, HANG_S)
        log.record(request("/second"), Response(200), time.perf_counter(), "r2", None, None)
        log.flush()
        assert not gate.is_set() and loop_thread not in writers
        gate.set()
        await asyncio.to_thread(log.close)

    asyncio.run(requests_while_stalled())
    paths = [line.split('"')[1] for line in out.getvalue().splitlines()]
    assert paths == ["GET /first", "GET /second"]
