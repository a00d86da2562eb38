"""Lambent's Python bootstrap as a real process against the client-side Runtime API harness.

Every test starts the runtime exactly as an environment would (argv and variables from the
registry and environment builder) and checks what AWS's Python runtime would send back:
payloads, context fields, error documents, exit statuses and log lines.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from lambent.runtimes.registry import available_runtimes, guest_dir
from tests.fixtures.functions import python_zip
from tests.fixtures.runtime_api import DEFAULT_ARN
from tests.fixtures.runtime_process import running

PYTHONS = [name for name in available_runtimes() if name.startswith("python")]
STREAM = "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
TEXT_LINE = re.compile(r"^\[(\w+)\]\t(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t([^\t]*)\t(.*)$")

CONTEXT_APP = """
import os, sys
def handler(event, context):
    cc = context.client_context
    return {
        "event": event,
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": [context.identity.cognito_identity_id,
                     context.identity.cognito_identity_pool_id],
        "client_context": None if cc is None else {
            "custom": cc.custom, "env": cc.env,
            "client": None if cc.client is None else [
                cc.client.installation_id, cc.client.app_title, cc.client.app_version_name,
                cc.client.app_version_code, cc.client.app_package_name]},
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "credentials": [os.environ.get(k) for k in
                        ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")],
        "cwd": os.getcwd(),
        "path": sys.path[:4],
        "version": list(sys.version_info[:2]),
    }
"""


@pytest.mark.parametrize("runtime", PYTHONS)
def test_event_and_context_fields_round_trip(runtime: str, tmp_path: Path) -> None:
    event = {"text": "héllo ✓", "n": [1, 2.5, None, True], "nested": {"a": {"b": "c"}}}
    with running(runtime, python_zip(CONTEXT_APP), tmp_path, handler="app.handler") as (h, p):
        deadline = int(time.time() * 1000) + 20_000
        rid = h.submit(event, deadline_ms=deadline, trace_id="Root=1-5e1b4151-5ac6c58f")
        result = h.result(rid)
        assert result.kind == "response", p.output()
        assert result.headers["content-type"] == "application/json"
        body = result.json()
        h.invoke({})  # a second invoke without a trace header clears _X_AMZN_TRACE_ID
        second = h.invoke({}).json()
    assert body["event"] == event
    assert body["aws_request_id"] == rid
    assert body["function_name"] == "fn"
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == DEFAULT_ARN
    assert body["memory_limit_in_mb"] == "128"  # a string, as on AWS
    assert 0 < body["remaining"] <= 20_000
    assert body["log_group_name"] == "/aws/lambda/fn"
    assert body["log_stream_name"] == STREAM
    assert body["identity"] == [None, None]
    assert body["client_context"] is None
    assert body["trace"] == "Root=1-5e1b4151-5ac6c58f"
    assert second["trace"] is None
    assert body["credentials"] == ["ASIATESTKEY", "secret", "token"]
    assert body["cwd"] == str(p.task_dir)
    major, minor = body["version"]
    assert runtime == f"python{major}.{minor}"
    assert body["path"] == [
        str(p.task_dir),
        f"/opt/python/lib/python{major}.{minor}/site-packages",
        "/opt/python",
        str(guest_dir()),
    ]


def test_client_context_and_cognito_identity(tmp_path: Path) -> None:
    client_context = {
        "client": {
            "installation_id": "inst-1",
            "app_title": "App",
            "app_version_name": "1.0",
            "app_version_code": "100",
            "app_package_name": "com.example",
        },
        "custom": {"tenant": "t1"},
        "env": {"platform": "Android"},
    }
    identity = {"cognitoIdentityId": "us-east-1:id", "cognitoIdentityPoolId": "us-east-1:pool"}
    with running("python3.11", python_zip(CONTEXT_APP), tmp_path, handler="app.handler") as (
        h,
        _,
    ):
        body = h.invoke({}, client_context=client_context, cognito_identity=identity).json()
    assert body["client_context"] == {
        "custom": {"tenant": "t1"},
        "env": {"platform": "Android"},
        "client": ["inst-1", "App", "1.0", "100", "com.example"],
    }
    assert body["identity"] == ["us-east-1:id", "us-east-1:pool"]


ERROR_APP = """import logging

class CustomError(Exception):
    pass

def inner():
    raise ValueError("boom")

def handler(event, context):
    inner()

def custom(event, context):
    raise CustomError("custom failure")
"""


@pytest.mark.parametrize("runtime", PYTHONS)
def test_handler_exception_is_reported_as_aws_does(runtime: str, tmp_path: Path) -> None:
    with running(runtime, python_zip(ERROR_APP), tmp_path, handler="app.handler") as (h, p):
        rid = h.submit({})
        result = h.result(rid)
        task = p.task_dir
        out = p.wait_output("[ERROR]")
    assert result.kind == "error"
    assert result.error_type == "ValueError"
    assert result.json() == {
        "errorMessage": "boom",
        "errorType": "ValueError",
        "requestId": rid,
        "stackTrace": [
            f'  File "{task}/app.py", line 10, in handler\n    inner()\n',
            f'  File "{task}/app.py", line 7, in inner\n    raise ValueError("boom")\n',
        ],
    }
    nbsp = "\u00a0"
    assert (
        f"[ERROR] ValueError: boom\rTraceback (most recent call last):\r"
        f'{nbsp * 2}File "{task}/app.py", line 10, in handler\r{nbsp * 4}inner()\r'
        f'{nbsp * 2}File "{task}/app.py", line 7, in inner\r{nbsp * 4}raise ValueError("boom")\n'
    ) in out


def test_exception_type_is_the_class_name(tmp_path: Path) -> None:
    with running("python3.11", python_zip(ERROR_APP), tmp_path, handler="app.custom") as (h, _):
        result = h.invoke({})
    assert result.json()["errorType"] == "CustomError"
    assert result.json()["errorMessage"] == "custom failure"


INIT_FAILURES = [
    pytest.param(
        {"other.py": "x = 1\n"},
        "app.handler",
        "Runtime.ImportModuleError",
        "Unable to import module 'app': No module named 'app'",
        id="missing-module",
    ),
    pytest.param(
        {"app.py": "import not_installed_anywhere\n"},
        "app.handler",
        "Runtime.ImportModuleError",
        "Unable to import module 'app': No module named 'not_installed_anywhere'",
        id="missing-dependency",
    ),
    pytest.param(
        {"app.py": "def other(e, c):\n    return 1\n"},
        "app.handler",
        "Runtime.HandlerNotFound",
        "Handler 'handler' missing on module 'app'",
        id="missing-handler",
    ),
    pytest.param(
        {"app.py": "x = 1\n"},
        "app",
        "Runtime.MalformedHandlerName",
        "Bad handler 'app': not enough values to unpack (expected 2, got 1)",
        id="malformed-name",
    ),
    pytest.param(
        {"app.py": "x = 1\n"},
        "sys.handler",
        "Runtime.BuiltInModuleConflict",
        "Cannot use built-in module sys as a handler module",
        id="builtin-module",
    ),
]


@pytest.mark.parametrize(("files", "handler", "error_type", "message"), INIT_FAILURES)
def test_init_failures_are_posted_to_init_error_then_exit_1(
    files: dict[str, str], handler: str, error_type: str, message: str, tmp_path: Path
) -> None:
    code = python_zip(files.pop("app.py", ""), files=files) if "app.py" in files else None
    if code is None:
        code = python_zip(files["other.py"], module="other")
    with running("python3.11", code, tmp_path, handler=handler) as (h, p):
        error = h.wait_init_error()
        status = p.wait()
        out = p.output()
    assert status == 1
    assert error.kind == "init_error"
    assert error.error_type == error_type
    assert error.json() == {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": "",
        "stackTrace": [],
    }
    lines = out.split("\n")
    warning = TEXT_LINE.match(lines[0])
    assert warning is not None and warning.group(1) == "WARNING" and warning.group(3) == ""
    assert warning.group(4).startswith("LAMBDA_WARNING: Unhandled exception.")
    assert lines[1] == f"[ERROR] {error_type}: {message}\rTraceback (most recent call last):"


@pytest.mark.parametrize("runtime", PYTHONS)
def test_syntax_error_is_user_code_syntax_error(runtime: str, tmp_path: Path) -> None:
    source = "def handler(event, context):\n    return (1,\n"
    with running(runtime, python_zip(source), tmp_path, handler="app.handler") as (h, p):
        error = h.wait_init_error()
        assert p.wait() == 1
    doc = error.json()
    assert doc["errorType"] == "Runtime.UserCodeSyntaxError"
    assert doc["errorMessage"].startswith("Syntax error in module 'app': ")
    assert doc["errorMessage"].endswith("(app.py, line 2)")
    assert doc["stackTrace"] == [f'  File "{p.task_dir}/app.py" Line 2\n        return (1,\n']


def test_exception_while_importing_keeps_its_own_type(tmp_path: Path) -> None:
    code = python_zip("import json\nraise KeyError('config')\n")
    with running("python3.11", code, tmp_path, handler="app.handler") as (h, p):
        error = h.wait_init_error()
        assert p.wait() == 1
    doc = error.json()
    assert doc["errorType"] == "KeyError"
    assert doc["errorMessage"] == "'config'"
    assert doc["stackTrace"][-1] == (
        f"  File \"{p.task_dir}/app.py\", line 2, in <module>\n    raise KeyError('config')\n"
    )
    assert not any("lambent_guest" in frame for frame in doc["stackTrace"])


def test_sys_exit_ends_the_process_with_its_status(tmp_path: Path) -> None:
    code = python_zip("import sys\ndef handler(event, context):\n    sys.exit(3)\n")
    with running("python3.11", code, tmp_path, handler="app.handler") as (h, p):
        rid = h.submit({})
        assert p.wait() == 3
        with pytest.raises(TimeoutError):
            h.result(rid, timeout=0.2)


def test_sys_exit_while_importing_ends_the_process(tmp_path: Path) -> None:
    code = python_zip("import sys\nsys.exit(2)\n")
    with running("python3.11", code, tmp_path, handler="app.handler") as (h, p):
        assert p.wait() == 2
        assert h.init_error is None


MARSHAL_APP = """import decimal, math
def unserializable(event, context):
    return {"s": {1, 2}}
def decimals(event, context):
    return {"d": decimal.Decimal("1.10"), "big": decimal.Decimal("12345678901234567890.5"),
            "nan": decimal.Decimal("NaN"), "list": [decimal.Decimal("-0.001")], "u": "é"}
def raw(event, context):
    return b"\\x00\\xffraw bytes"
def nothing(event, context):
    return None
def echo(event, context):
    return event
"""


def test_unserializable_result_is_a_marshal_error(tmp_path: Path) -> None:
    code = python_zip(MARSHAL_APP)
    with running("python3.11", code, tmp_path, handler="app.unserializable") as (h, _):
        rid = h.submit({})
        result = h.result(rid)
    assert result.error_type == "Runtime.MarshalError"
    assert result.json() == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": rid,
        "stackTrace": [],
    }


@pytest.mark.parametrize(("runtime", "ascii_only"), [("python3.11", True), ("python3.12", False)])
def test_results_are_encoded_as_aws_encodes_them(
    runtime: str, ascii_only: bool, tmp_path: Path
) -> None:
    if runtime not in PYTHONS:
        pytest.skip(f"{runtime} is not installed on this machine")
    code = python_zip(MARSHAL_APP)
    with running(runtime, code, tmp_path, handler="app.decimals") as (h, _):
        body = h.invoke({}).body
    u = '"\\u00e9"' if ascii_only else '"é"'
    expected = (
        '{"d": 1.10, "big": 12345678901234567890.5, "nan": NaN, "list": [-0.001], "u": ' + u + "}"
    )
    assert body.decode("utf-8") == expected


def test_bytes_pass_through_and_none_is_null(tmp_path: Path) -> None:
    with running("python3.11", python_zip(MARSHAL_APP), tmp_path, handler="app.raw") as (h, _):
        raw = h.invoke({})
    assert raw.body == b"\x00\xffraw bytes"
    assert raw.headers["content-type"] == "application/unknown"
    with running("python3.11", python_zip(MARSHAL_APP), tmp_path / "n", handler="app.nothing") as (
        h,
        _,
    ):
        assert h.invoke({}).body == b"null"


def test_invalid_event_json_is_an_unmarshal_error(tmp_path: Path) -> None:
    with running("python3.11", python_zip(MARSHAL_APP), tmp_path, handler="app.echo") as (h, _):
        result = h.invoke(raw=b"{not json")
        ok = h.invoke(raw=b'"still alive"')
    assert result.error_type == "Runtime.UnmarshalError"
    assert result.json()["errorMessage"].startswith("Unable to unmarshal input: Expecting")
    assert ok.json() == "still alive"


COUNTER_APP = """import os
count = 0
def handler(event, context):
    global count
    count += 1
    return {"count": count, "pid": os.getpid()}
"""


def test_warm_invokes_reuse_the_process_and_the_connection(tmp_path: Path) -> None:
    code = python_zip(COUNTER_APP)
    with running("python3.11", code, tmp_path, handler="app.handler") as (h, p):
        results = [h.invoke({"i": i}).json() for i in range(20)]
        connections = h.connections
    assert [r["count"] for r in results] == list(range(1, 21))
    assert {r["pid"] for r in results} == {p.proc.pid}
    assert connections == 1


def test_function_cannot_import_the_runtime_modules_by_bare_name(tmp_path: Path) -> None:
    code = python_zip(
        "def handler(event, context):\n"
        "    out = {}\n"
        "    for name in ('rapid', 'marshal_', 'handler', 'logs', 'faults'):\n"
        "        try:\n"
        "            __import__(name)\n"
        "            out[name] = 'imported'\n"
        "        except ImportError:\n"
        "            out[name] = 'missing'\n"
        "    import snapshot_restore_py\n"
        "    out['hooks'] = snapshot_restore_py.__name__\n"
        "    return out\n"
    )
    with running("python3.11", code, tmp_path, handler="app.handler") as (h, _):
        body = h.invoke({}).json()
    assert body == {
        "rapid": "missing",
        "marshal_": "missing",
        "handler": "missing",
        "logs": "missing",
        "faults": "missing",
        "hooks": "snapshot_restore_py",
    }
