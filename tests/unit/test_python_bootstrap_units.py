"""The Python runtime's pure parts, in process: encoding, error documents, log records,
context parsing, the Runtime API client's connection handling and the SnapStart hooks."""

from __future__ import annotations

import decimal
import json
import logging
import math
import os
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterator

import pytest

# Inside an environment these are `lambent_guest.*` and `snapshot_restore_py` under
# /var/runtime; in process they are reached through the `lambent.guest` namespace.
from lambent.guest import snapshot_restore_py
from lambent.guest.lambent_guest import faults
from lambent.guest.lambent_guest.context import FunctionInfo, make_context
from lambent.guest.lambent_guest.logs import JsonFormatter, TelemetrySink
from lambent.guest.lambent_guest.marshal import Marshaller, unmarshal_event
from lambent.guest.lambent_guest.rapid import RuntimeApiClient, RuntimeApiError

PY311 = {"AWS_EXECUTION_ENV": "AWS_Lambda_python3.11"}
PY312 = {"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}


# -- results --------------------------------------------------------------------------


def test_decimals_are_written_as_the_exact_number() -> None:
    m = Marshaller(PY311)
    doc = {
        "price": decimal.Decimal("19.90"),
        "tiny": decimal.Decimal("1E-7"),
        "nan": decimal.Decimal("NaN"),
        "nested": [decimal.Decimal("-3"), {"k": decimal.Decimal("0.10")}],
        "text": "\x00not a marker",
    }
    assert m.encode(doc) == (
        '{"price": 19.90, "tiny": 1E-7, "nan": NaN, "nested": [-3, {"k": 0.10}], '
        '"text": "\\u0000not a marker"}'
    )
    # The marker never leaks into a plain string, whatever it holds.
    assert m.encode({"s": "\x00abc:def"}) == '{"s": "\\u0000abc:def"}'


def test_ascii_escaping_follows_the_runtime_version() -> None:
    assert Marshaller(PY311).encode({"é": "✓"}) == '{"\\u00e9": "\\u2713"}'
    assert Marshaller(PY312).encode({"é": "✓"}) == '{"é": "✓"}'
    assert Marshaller(PY311).encode([math.inf, -math.inf]) == "[Infinity, -Infinity]"


def test_marshal_response_and_errors() -> None:
    m = Marshaller(PY311)
    assert m.marshal_response(b"\x01raw") == (b"\x01raw", "application/unknown")
    assert m.marshal_response(None) == (b"null", "application/json")
    with pytest.raises(faults.FaultError) as err:
        m.marshal_response({"when": object()})
    assert err.value.error_type == "Runtime.MarshalError"
    assert err.value.message == (
        "Unable to marshal response: Object of type object is not JSON serializable"
    )
    assert json.loads(m.to_json({"odd": object()}))["odd"].startswith("<object object")


def test_unmarshal_event() -> None:
    assert unmarshal_event(b'{"a": [1, 2]}', "application/json") == {"a": [1, 2]}
    assert unmarshal_event(b'"x"', None) == "x"
    assert unmarshal_event(b"<xml/>", "application/xml") == b"<xml/>"
    with pytest.raises(faults.FaultError) as err:
        unmarshal_event(b"{", "application/json")
    assert err.value.error_type == "Runtime.UnmarshalError"


# -- errors ---------------------------------------------------------------------------


def test_error_log_lines_use_no_break_spaces() -> None:
    doc = faults.make_error(
        "boom", "ValueError", ['  File "/var/task/app.py", line 3, in h\n    raise X\n', ""]
    )
    assert faults.error_log_lines(doc) == [
        "[ERROR] ValueError: boom",
        "Traceback (most recent call last):",
        '\u00a0\u00a0File "/var/task/app.py", line 3, in h',
        "\u00a0\u00a0\u00a0\u00a0raise X",
        "",
    ]
    assert (
        faults.error_log_lines(faults.make_error("", "Runtime.X", None))[0] == "[ERROR] Runtime.X"
    )
    assert faults.error_log_lines(faults.make_error("only", "", None))[0] == "[ERROR] only"


def test_exception_error_has_no_caret_lines() -> None:
    def fail() -> None:
        values: dict[str, int] = {}
        values["missing"] += 1

    try:
        fail()
    except KeyError as exc:
        doc = faults.exception_error(exc, exc.__traceback__, "rid")
    assert doc["errorType"] == "KeyError"
    assert doc["requestId"] == "rid"
    last = doc["stackTrace"][-1]
    assert last.endswith('values["missing"] += 1\n')
    assert "^" not in "".join(doc["stackTrace"])


# -- context --------------------------------------------------------------------------

INFO = FunctionInfo("fn", "$LATEST", "512", "/aws/lambda/fn", "stream")


def test_context_from_headers() -> None:
    ctx = make_context(
        INFO,
        "rid",
        0,
        "arn:aws:lambda:us-east-1:1:function:fn",
        '{"custom": {"a": 1}, "env": null}',
        '{"cognitoIdentityId": "id"}',
    )
    assert (ctx.aws_request_id, ctx.memory_limit_in_mb, ctx.function_version) == (
        "rid",
        "512",
        "$LATEST",
    )
    assert ctx.get_remaining_time_in_millis() == 0  # deadline in the past: never negative
    assert ctx.client_context is not None
    assert (ctx.client_context.custom, ctx.client_context.env) == ({"a": 1}, None)
    assert ctx.client_context.client is None
    assert (ctx.identity.cognito_identity_id, ctx.identity.cognito_identity_pool_id) == (
        "id",
        None,
    )
    assert repr(ctx).startswith("LambdaContext([aws_request_id=rid,log_group_name=/aws/lambda/fn")


def test_malformed_context_headers() -> None:
    with pytest.raises(faults.FaultError) as err:
        make_context(INFO, "rid", 0, None, "{nope", None)
    assert err.value.error_type == "Runtime.LambdaContextUnmarshalError"
    assert err.value.message.startswith("Unable to parse Client Context JSON: Expecting")


# -- logs -----------------------------------------------------------------------------


def test_json_formatter_fields() -> None:
    record = logging.LogRecord(
        "orders", logging.WARNING, "/var/task/app.py", 12, "n=%d", (3,), None
    )
    record.aws_request_id = "rid"
    record.order_id = "o-1"
    doc = json.loads(JsonFormatter().format(record))
    assert doc == {
        "timestamp": doc["timestamp"],
        "level": "WARNING",
        "message": "n=3",
        "logger": "orders",
        "requestId": "rid",
        "order_id": "o-1",
    }
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord(
            "root", 45, "/var/task/app.py", 20, {"k": "v"}, None, sys.exc_info(), func="h"
        )
    doc = json.loads(JsonFormatter().format(record))
    assert doc["level"] == "ERROR"  # levels fold to the nearest standard one below
    assert doc["message"] == {"k": "v"}
    assert (doc["errorType"], doc["errorMessage"]) == ("ValueError", "bad")
    assert doc["location"] == "/var/task/app.py:h:20"
    assert doc["stackTrace"][0].startswith('  File "')


def test_telemetry_sink_frames() -> None:
    read_fd, write_fd = os.pipe()
    try:
        sink = TelemetrySink(write_fd, b"\xa5\x5a\x00\x17")
        sink.log("one\ntwo\n")
        sink.log_error(["[ERROR] X: y", "Traceback (most recent call last):"])
        data = os.read(read_fd, 65536)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    kind, length, _ = struct.unpack(">IIQ", data[:16])
    assert (kind, data[16 : 16 + length]) == (0xA55A0003, b"one\ntwo\n")
    rest = data[16 + length :]
    kind, length, _ = struct.unpack(">IIQ", rest[:16])
    assert kind == 0xA55A0017
    assert rest[16 : 16 + length] == b"[ERROR] X: y\nTraceback (most recent call last):"


# -- the Runtime API client -------------------------------------------------------------


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], str]]:
    """A one-shot TCP server thread running `script(listener)`; returns its address."""
    threads: list[threading.Thread] = []
    listeners: list[socket.socket] = []

    def start(script: Callable[[socket.socket], None]) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)
        thread = threading.Thread(target=script, args=(listener,), daemon=True)
        thread.start()
        threads.append(thread)
        return f"127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for listener in listeners:
        listener.close()
    for thread in threads:
        thread.join(5)


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            want = int(line.split(b":")[1])
            while len(body) < want:
                body += conn.recv(65536)
    return head


NEXT = (
    b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\n"
    b"Lambda-Runtime-Deadline-Ms: 42\r\nContent-Type: application/json\r\n"
)


def test_client_reads_chunked_bodies_and_reconnects_after_close(
    raw_server: Callable[[Callable[[socket.socket], None]], str],
) -> None:
    def script(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        _read_request(conn)
        chunks = b'3\r\n{"a\r\n4\r\n": 1\r\n1;ext=1\r\n}\r\n0\r\nTrailer: x\r\n\r\n'
        conn.sendall(NEXT + b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
        _read_request(conn)
        conn.sendall(b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        conn.close()
        conn, _ = listener.accept()  # the client must come back on a new connection
        _read_request(conn)
        conn.sendall(NEXT + b"Content-Length: 2\r\n\r\n{}")
        conn.close()

    client = RuntimeApiClient(raw_server(script))
    first = client.next_invocation()
    assert (first.request_id, first.deadline_ms, first.body) == ("r1", 42, b'{"a": 1}')
    assert client.post_response("r1", b"1", "application/json") == 202
    assert client.next_invocation().body == b"{}"
    client.close()


def test_client_retries_once_when_an_idle_connection_was_dropped(
    raw_server: Callable[[Callable[[socket.socket], None]], str],
) -> None:
    def script(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        _read_request(conn)
        conn.sendall(NEXT + b"Content-Length: 2\r\n\r\n{}")
        conn.close()  # dropped while idle, without saying so
        conn, _ = listener.accept()
        head = _read_request(conn)
        assert head.startswith(b"POST /2018-06-01/runtime/invocation/r1/error HTTP/1.1")
        assert b"Lambda-Runtime-Function-Error-Type: Runtime.X" in head
        conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
        conn.close()

    client = RuntimeApiClient(raw_server(script))
    client.next_invocation()
    assert client.post_error("r1", b"{}", "Runtime.X") == 202
    client.close()


def test_client_fails_on_a_fresh_connection_that_breaks() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(RuntimeApiError, match="connection failed"):
        RuntimeApiClient(f"127.0.0.1:{port}").next_invocation()
    with pytest.raises(RuntimeApiError, match="Invalid AWS_LAMBDA_RUNTIME_API"):
        RuntimeApiClient("no-port")


# -- SnapStart hooks ------------------------------------------------------------------


def test_snapshot_hooks_order_and_arguments() -> None:
    calls: list[str] = []
    snapshot_restore_py.get_before_snapshot().clear()
    snapshot_restore_py.get_after_restore().clear()

    @snapshot_restore_py.register_before_snapshot
    def first() -> None:
        calls.append("before-1")

    def second(tag: str, *, suffix: str) -> None:
        calls.append(f"before-{tag}{suffix}")

    assert snapshot_restore_py.register_before_snapshot(second, "2", suffix="!") is second

    @snapshot_restore_py.register_after_restore
    def restore_a() -> None:
        calls.append("after-a")

    snapshot_restore_py.register_after_restore(lambda n: calls.append(f"after-{n}"), "b")

    snapshot_restore_py.run_before_snapshot()
    snapshot_restore_py.run_after_restore()
    snapshot_restore_py.run_before_snapshot()  # consumed: nothing runs twice
    assert calls == ["before-2!", "before-1", "after-a", "after-b"]
    assert first() is None and restore_a() is None
    snapshot_restore_py.get_after_restore().clear()
