"""Lambent's Node bootstrap as a real `node` process against the client-side harness.

The expectations are those of AWS's nodejs runtime interface clients: async and
callback handlers (with callbackWaitsForEmptyEventLoop), the legacy context methods, CJS
and ESM handler files, AWS's error documents and console log format.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.fixtures.functions import node_zip
from tests.fixtures.runtime_api import DEFAULT_ARN, Result
from tests.fixtures.runtime_process import running

NODES = ["nodejs20.x", "nodejs22.x", "nodejs24.x"]
STREAM = "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t([^\t]*)\t(\w+)\t(.*)$")

CONTEXT_APP = """
let count = 0;
exports.handler = async (event, context) => {
  count += 1;
  return {
    count,
    event,
    awsRequestId: context.awsRequestId,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    remaining: context.getRemainingTimeInMillis(),
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    identity: context.identity ?? null,
    clientContext: context.clientContext ?? null,
    waits: context.callbackWaitsForEmptyEventLoop,
    trace: process.env._X_AMZN_TRACE_ID ?? null,
    executionEnv: process.env.AWS_EXECUTION_ENV,
    pid: process.pid,
  };
};
"""


@pytest.mark.parametrize("runtime", NODES)
def test_event_and_context_fields_round_trip(runtime: str, tmp_path: Path) -> None:
    event = {"text": "héllo ✓", "n": [1, 2.5, None, True]}
    client_context = {"client": {"installation_id": "i"}, "custom": {"k": "v"}, "env": {}}
    identity = {"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}
    with running(runtime, node_zip(CONTEXT_APP), tmp_path, handler="index.handler") as (h, p):
        deadline = int(time.time() * 1000) + 20_000
        rid = h.submit(
            event,
            deadline_ms=deadline,
            trace_id="Root=1-abc",
            client_context=client_context,
            cognito_identity=identity,
        )
        body = h.result(rid).json()
        second = h.invoke({}).json()
    assert body["event"] == event
    assert body["awsRequestId"] == rid
    assert body["functionName"] == "fn"
    assert body["functionVersion"] == "$LATEST"
    assert body["invokedFunctionArn"] == DEFAULT_ARN
    assert body["memoryLimitInMB"] == "128"
    assert 0 < body["remaining"] <= 20_000
    assert body["logGroupName"] == "/aws/lambda/fn"
    assert body["logStreamName"] == STREAM
    assert body["identity"] == identity
    assert body["clientContext"] == client_context
    assert body["waits"] is True
    assert body["trace"] == "Root=1-abc"
    assert body["executionEnv"] == f"AWS_Lambda_{runtime}"
    assert second["trace"] is None and second["identity"] is None
    assert (second["count"], second["pid"]) == (2, p.proc.pid)


def _invoke_once(
    tmp_path: Path,
    source: str,
    *,
    filename: str = "index.js",
    files: dict[str, str] | None = None,
    handler: str = "index.handler",
) -> tuple[Result, str]:
    code = node_zip(source, filename=filename, files=files)
    with running("nodejs20.x", code, tmp_path, handler=handler) as (h, p):
        result = h.invoke({"k": 1})
        return result, p.output()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("exports.handler = async (e) => ({got: e});", {"got": {"k": 1}}),
        ("exports.handler = (e, c, cb) => cb(null, 'cb');", "cb"),
        ("exports.handler = (e, c) => { c.succeed('succeed'); };", "succeed"),
        ("exports.handler = (e, c) => { c.done(null, 'done'); };", "done"),
        ("exports.handler = (e, c) => { setTimeout(() => c.succeed('later'), 10); };", "later"),
        ("exports.handler = () => {};", None),
        ("exports.handler = async () => undefined;", None),
        ("exports.nested = {deeper: {fn: async () => 'nested'}};", "nested"),
    ],
    ids=["async", "callback", "succeed", "done", "async-succeed", "no-return", "undefined", "nest"],
)
def test_handler_styles(source: str, expected: object, tmp_path: Path) -> None:
    handler = "index.nested.deeper.fn" if "nested" in source else "index.handler"
    result, _ = _invoke_once(tmp_path, source, handler=handler)
    assert result.kind == "response"
    assert result.json() == expected


def test_callback_waits_for_the_event_loop_unless_told_not_to(tmp_path: Path) -> None:
    source = """
exports.wait = (event, context, callback) => {
  setTimeout(() => {
    require('fs').writeFileSync(event.marker, 'fired');
    console.log('timer fired');
  }, 200);
  callback(null, 'waited');
};
exports.nowait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => console.log('timer fired'), 20000);
  callback(null, 'did not wait');
};
"""
    with running("nodejs20.x", node_zip(source), tmp_path, handler="index.wait") as (h, p):
        marker = tmp_path / "fired"
        rid = h.submit({"marker": str(marker)})
        assert h.result(rid).json() == "waited"
        # The timer ran before the response was posted, inside the invocation.
        assert marker.read_text() == "fired"
        assert f"\t{rid}\tINFO\ttimer fired" in p.wait_output("timer fired")
    with running("nodejs20.x", node_zip(source), tmp_path / "nowait", handler="index.nowait") as (
        h,
        p,
    ):
        # Answered with the 20 s timer still pending: waiting would have fired it first.
        assert h.invoke({}, timeout=15).json() == "did not wait"
        assert "timer fired" not in p.output()


TYPE_MODULE = {"package.json": '{"type": "module"}'}
TYPE_COMMONJS = {"package.json": '{"type": "commonjs"}'}


@pytest.mark.parametrize(
    ("filename", "source", "files"),
    [
        ("index.mjs", "export const handler = async () => import.meta.url;", None),
        ("index.cjs", "module.exports.handler = async () => __filename;", None),
        ("index.js", "export const handler = async () => import.meta.url;", TYPE_MODULE),
        ("index.js", "exports.handler = async () => __filename;", TYPE_COMMONJS),
    ],
    ids=["mjs", "cjs", "js-type-module", "js-type-commonjs"],
)
def test_module_kinds(
    filename: str, source: str, files: dict[str, str] | None, tmp_path: Path
) -> None:
    result, out = _invoke_once(tmp_path, source, filename=filename, files=files)
    assert result.kind == "response", out
    # ES modules know their URL, CommonJS modules their file name: each loaded as its kind.
    assert result.json().endswith(f"/task/{filename}")
    assert result.json().startswith("file://" if "import.meta" in source else "/")


def test_handler_in_a_subdirectory(tmp_path: Path) -> None:
    source = "exports.handler = async () => 'from src';"
    result, _ = _invoke_once(tmp_path, source, filename="src/app.js", handler="src/app.handler")
    assert result.json() == "from src"


ERRORS = """
exports.throws = async () => { throw new TypeError('bad type'); };
exports.callbackError = (e, c, cb) => cb(new Error('via callback'));
exports.callbackString = (e, c, cb) => cb('just a string');
exports.fail = (e, c) => c.fail(new RangeError('via fail'));
exports.failEmpty = (e, c) => c.fail();
exports.circular = async () => { const a = {}; a.self = a; return a; };
"""


@pytest.mark.parametrize(
    ("handler", "error_type", "message", "has_trace"),
    [
        ("throws", "TypeError", "bad type", True),
        ("callbackError", "Error", "via callback", True),
        ("callbackString", "string", "just a string", False),
        ("fail", "RangeError", "via fail", True),
        ("failEmpty", "string", "handled", False),
        ("circular", "Error", "Unable to stringify response body", True),
    ],
)
def test_errors_are_reported_as_aws_does(
    handler: str, error_type: str, message: str, has_trace: bool, tmp_path: Path
) -> None:
    with running("nodejs20.x", node_zip(ERRORS), tmp_path, handler=f"index.{handler}") as (h, p):
        rid = h.submit({})
        result = h.result(rid)
        out = p.wait_output("Invoke Error")
    assert result.kind == "error"
    assert result.error_type == error_type
    doc = result.json()
    assert set(doc) == {"errorType", "errorMessage", "trace"}
    assert (doc["errorType"], doc["errorMessage"]) == (error_type, message)
    if has_trace:
        assert doc["trace"][0] == f"{error_type}: {message}"
        assert any("index.js" in line or "index.mjs" in line for line in doc["trace"])
    else:
        assert doc["trace"] == []
    line = next(ln for ln in out.split("\n") if "Invoke Error" in ln)
    match = LOG_LINE.match(line)
    assert match is not None and match.group(2, 3) == (rid, "ERROR")
    logged = json.loads(match.group(4).removeprefix("Invoke Error \t"))
    assert logged["errorMessage"] == message


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message_prefix"),
    [
        (
            {"other.js": "x"},
            "index.handler",
            "Runtime.ImportModuleError",
            "Error: Cannot find module 'index'\nRequire stack:\n- ",
        ),
        (
            {"index.js": "require('left-pad');"},
            "index.handler",
            "Runtime.ImportModuleError",
            "Error: Cannot find module 'left-pad'\nRequire stack:\n- ",
        ),
        (
            {"index.js": "exports.other = 1;"},
            "index.handler",
            "Runtime.HandlerNotFound",
            "index.handler is undefined or not exported",
        ),
        (
            {"index.js": "exports.handler = 42;"},
            "index.handler",
            "Runtime.HandlerNotFound",
            "index.handler is not a function",
        ),
        (
            {"index.js": "exports.handler = async () => { return };}"},
            "index.handler",
            "Runtime.UserCodeSyntaxError",
            "SyntaxError: Unexpected token '}'",
        ),
        ({"index.js": "x"}, "index", "Runtime.MalformedHandlerName", "Bad handler"),
        (
            {"index.js": "x"},
            "../index.handler",
            "Runtime.MalformedHandlerName",
            "'../index.handler' is not a valid handler name.",
        ),
    ],
    ids=[
        "missing-module",
        "missing-dependency",
        "missing-handler",
        "not-a-function",
        "syntax-error",
        "malformed",
        "relative",
    ],
)
def test_init_errors(
    files: dict[str, str], handler: str, error_type: str, message_prefix: str, tmp_path: Path
) -> None:
    (name, source), *rest = files.items()
    code = node_zip(source, filename=name, files=dict(rest))
    with running("nodejs20.x", code, tmp_path, handler=handler) as (h, p):
        error = h.wait_init_error()
        status = p.wait()
        out = p.output()
    assert status == 129
    assert error.kind == "init_error"
    assert error.error_type == error_type
    doc = error.json()
    assert doc["errorType"] == error_type
    assert doc["errorMessage"].startswith(message_prefix)
    assert doc["trace"][0].startswith(error_type)
    match = LOG_LINE.match(out.split("\n")[0])
    assert match is not None
    assert match.group(2, 3) == ("undefined", "ERROR")
    assert match.group(4).startswith("Uncaught Exception \t{")


def test_unhandled_rejection_fails_the_invoke_and_exits_128(tmp_path: Path) -> None:
    source = (
        "exports.handler = async () => { Promise.reject(new Error('lost'));"
        " await new Promise(r => setTimeout(r, 50)); return 'never'; };"
    )
    with running("nodejs20.x", node_zip(source), tmp_path, handler="index.handler") as (h, p):
        result = h.invoke({})
        assert p.wait() == 128
    assert result.error_type == "Runtime.UnhandledPromiseRejection"
    assert result.json()["errorMessage"] == "Error: lost"


def test_process_exit_ends_the_process_with_its_status(tmp_path: Path) -> None:
    source = "exports.handler = async () => { process.exit(3); };"
    with running("nodejs20.x", node_zip(source), tmp_path, handler="index.handler") as (h, p):
        rid = h.submit({})
        assert p.wait() == 3
        with pytest.raises(TimeoutError):
            h.result(rid, timeout=0.2)


def test_console_log_format(tmp_path: Path) -> None:
    source = """
console.log('during init');
exports.handler = async (event) => {
  console.log('hello %s', 'world', {a: 1});
  console.info('multi\\nline');
  console.warn('careful');
  console.error('broken');
  console.debug('debugging');
  return 'ok';
};
"""
    with running("nodejs20.x", node_zip(source), tmp_path, handler="index.handler") as (h, p):
        rid = h.submit({})
        h.result(rid)
        out = p.wait_output("debugging")
    parsed = [LOG_LINE.match(line) for line in out.split("\n") if line]
    rows = [m.group(2, 3, 4) for m in parsed if m is not None]
    assert rows == [
        ("undefined", "INFO", "during init"),
        (rid, "INFO", "hello world { a: 1 }"),
        (rid, "INFO", "multi\rline"),
        (rid, "WARN", "careful"),
        (rid, "ERROR", "broken"),
        (rid, "DEBUG", "debugging"),
    ]


def test_log_level_and_json_format(tmp_path: Path) -> None:
    source = """
exports.handler = async () => {
  console.debug('hidden at INFO');
  console.info('shown', {k: 1});
  console.error(new Error('as json'));
  return 'ok';
};
"""
    code = node_zip(source)
    with running("nodejs20.x", code, tmp_path, handler="index.handler", log_format="JSON") as (
        h,
        p,
    ):
        rid = h.submit({})
        h.result(rid)
        out = p.wait_output("as json")
    records = [json.loads(line) for line in out.split("\n") if line]
    assert records[0]["message"] == "shown { k: 1 }"
    assert all(r["requestId"] == rid for r in records)
    assert records[0]["level"] == "INFO"
    error = records[1]
    assert error["level"] == "ERROR"
    # A lone Error argument becomes the message, serialized as AWS's runtime does.
    assert error["message"]["errorType"] == "Error"
    assert error["message"]["errorMessage"] == "as json"
    assert error["message"]["stackTrace"][0] == "Error: as json"
    assert "hidden" not in out


def test_streaming_handler_is_answered_buffered(tmp_path: Path) -> None:
    source = """
exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType('text/plain');
  responseStream.write('hello ');
  responseStream.end('world');
});
"""
    result, _ = _invoke_once(tmp_path, source)
    assert result.body == b"hello world"
    assert result.headers["content-type"] == "text/plain"
