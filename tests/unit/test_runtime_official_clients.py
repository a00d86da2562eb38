"""The official runtime interface clients, unmodified, as custom runtimes (provided.al2023).

Each case runs the same function code under Lambent's own bootstrap and under the official
client, against the same client-side Runtime API harness, and expects the same answers:
payloads, context fields, error documents, init errors and exit statuses. The first run on
a machine downloads awslambdaric and builds aws-lambda-ric from source (a few minutes);
later runs use the cache (tests/fixtures/functions.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.functions import (
    aws_lambda_ric_zip,
    awslambdaric_zip,
    node_binary,
    node_zip,
    python_zip,
)
from tests.fixtures.runtime_api import DEFAULT_ARN, Result
from tests.fixtures.runtime_process import running

PY_APP = """import os, sys
count = 0
def handler(event, context):
    global count
    count += 1
    return {"count": count, "event": event, "rid": context.aws_request_id,
            "fn": context.function_name, "ver": context.function_version,
            "arn": context.invoked_function_arn, "mem": context.memory_limit_in_mb,
            "group": context.log_group_name, "stream": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis() > 0,
            "identity": [context.identity.cognito_identity_id,
                         context.identity.cognito_identity_pool_id],
            "custom": context.client_context.custom if context.client_context else None,
            "trace": os.environ.get("_X_AMZN_TRACE_ID")}
def fails(event, context):
    raise ValueError("boom")
def exits(event, context):
    sys.exit(3)
"""

NODE_APP = """
let count = 0;
exports.handler = async (event, context) => {
  count += 1;
  return {count, event, rid: context.awsRequestId, fn: context.functionName,
          ver: context.functionVersion, arn: context.invokedFunctionArn,
          mem: context.memoryLimitInMB, group: context.logGroupName,
          stream: context.logStreamName, remaining: context.getRemainingTimeInMillis() > 0,
          identity: context.identity ?? null,
          custom: context.clientContext ? context.clientContext.custom : null,
          trace: process.env._X_AMZN_TRACE_ID ?? null};
};
exports.fails = async () => { throw new Error('boom'); };
exports.exits = async () => { process.exit(3); };
"""

# (runtime, zip builder) pairs: Lambent's bootstrap and the official client.
Flavour = tuple[str, Callable[[str], bytes]]
PYTHON_FLAVOURS: dict[str, Flavour] = {
    "lambent": ("python3.11", python_zip),
    "awslambdaric": ("provided.al2023", awslambdaric_zip),
}
# Each AWS client on the Node binaries of the runtimes that use it: 3.x is the client of
# AWS's nodejs20.x/22.x, 4.x that of nodejs24.x.
NODE_FLAVOURS: dict[str, Flavour] = {
    "lambent": ("nodejs20.x", node_zip),
    "lambent@24": ("nodejs24.x", node_zip),
    "aws-lambda-ric@3": (
        "provided.al2023",
        lambda src: aws_lambda_ric_zip(src, "3.3.0", node=node_binary("20")),
    ),
    "aws-lambda-ric@3-node22": (
        "provided.al2023",
        lambda src: aws_lambda_ric_zip(src, "3.3.0", node=node_binary("22")),
    ),
    "aws-lambda-ric@4": (
        "provided.al2023",
        lambda src: aws_lambda_ric_zip(src, "4.0.2", node=node_binary("24")),
    ),
}
OFFICIAL_NODE = [name for name in NODE_FLAVOURS if name.startswith("aws-lambda-ric")]


def _normalize(doc: Any, task_dir: Path) -> Any:
    if isinstance(doc, str):
        return doc.replace(str(task_dir), "/var/task")
    if isinstance(doc, list):
        return [_normalize(item, task_dir) for item in doc]
    if isinstance(doc, dict):
        return {key: _normalize(value, task_dir) for key, value in doc.items()}
    return doc


def _session(
    flavour: Flavour, source: str, handler: str, tmp_path: Path, invokes: int = 1
) -> tuple[list[Result], list[str], int | None, Path]:
    runtime, build = flavour
    with running(runtime, build(source), tmp_path, handler=handler) as (h, p):
        rids, results = [], []
        for i in range(invokes):
            rid = h.submit(
                {"i": i, "text": "é"},
                trace_id="Root=1-abc",
                client_context={"custom": {"k": "v"}},
                cognito_identity={"cognitoIdentityId": "id", "cognitoIdentityPoolId": "pool"},
            )
            rids.append(rid)
            results.append(h.result(rid, timeout=60))
            if results[-1].kind == "init_error":
                break
        status = p.proc.poll()
        return results, rids, status, p.task_dir


@pytest.mark.parametrize("name", list(PYTHON_FLAVOURS))
def test_python_payload_and_context(name: str, tmp_path: Path) -> None:
    results, rids, _, _ = _session(PYTHON_FLAVOURS[name], PY_APP, "app.handler", tmp_path, 3)
    bodies = [r.json() for r in results]
    assert [b["count"] for b in bodies] == [1, 2, 3]
    first = bodies[0]
    assert first == {
        "count": 1,
        "event": {"i": 0, "text": "é"},
        "rid": rids[0],
        "fn": "fn",
        "ver": "$LATEST",
        "arn": DEFAULT_ARN,
        "mem": "128",
        "group": "/aws/lambda/fn",
        "stream": "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        "remaining": True,
        "identity": ["id", "pool"],
        "custom": {"k": "v"},
        "trace": "Root=1-abc",
    }


def test_python_errors_match_awslambdaric(tmp_path: Path) -> None:
    answers = {}
    for name, flavour in PYTHON_FLAVOURS.items():
        results, rids, _, task = _session(flavour, PY_APP, "app.fails", tmp_path / name)
        doc = results[0].json()
        assert doc["requestId"] == rids[0]
        answers[name] = {k: v for k, v in _normalize(doc, task).items() if k != "requestId"}
    assert answers["lambent"] == answers["awslambdaric"]
    assert answers["lambent"]["errorType"] == "ValueError"
    assert answers["lambent"]["stackTrace"] == [
        '  File "/var/task/app.py", line 16, in fails\n    raise ValueError("boom")\n'
    ]


@pytest.mark.parametrize(
    ("source", "handler"),
    [("", "app.handler"), ("x = 1\n", "app.nope"), ("def f(:\n", "app.f")],
    ids=["missing-module", "missing-handler", "syntax-error"],
)
def test_python_init_errors_match_awslambdaric(source: str, handler: str, tmp_path: Path) -> None:
    answers = {}
    for name, (runtime, build) in PYTHON_FLAVOURS.items():
        code = build(source) if source else build("x = 1\n").replace(b"app.py", b"xyz.py")
        with running(runtime, code, tmp_path / name, handler=handler) as (h, p):
            error = h.wait_init_error(timeout=60)
            status = p.wait()
            answers[name] = (error.error_type, _normalize(error.json(), p.task_dir), status)
    assert answers["lambent"] == answers["awslambdaric"]
    assert answers["lambent"][2] == 1


@pytest.mark.parametrize("name", list(PYTHON_FLAVOURS))
def test_python_sys_exit(name: str, tmp_path: Path) -> None:
    runtime, build = PYTHON_FLAVOURS[name]
    with running(runtime, build(PY_APP), tmp_path, handler="app.exits") as (h, p):
        h.submit({})
        assert p.wait(timeout=60) == 3


@pytest.mark.parametrize("name", list(NODE_FLAVOURS))
def test_node_payload_and_context(name: str, tmp_path: Path) -> None:
    results, rids, _, _ = _session(NODE_FLAVOURS[name], NODE_APP, "index.handler", tmp_path, 3)
    bodies = [r.json() for r in results]
    assert [b["count"] for b in bodies] == [1, 2, 3]
    assert bodies[0] == {
        "count": 1,
        "event": {"i": 0, "text": "é"},
        "rid": rids[0],
        "fn": "fn",
        "ver": "$LATEST",
        "arn": DEFAULT_ARN,
        "mem": "128",
        "group": "/aws/lambda/fn",
        "stream": "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        "remaining": True,
        "identity": {"cognitoIdentityId": "id", "cognitoIdentityPoolId": "pool"},
        "custom": {"k": "v"},
        "trace": "Root=1-abc",
    }


def test_node_errors_match_aws_lambda_ric(tmp_path: Path) -> None:
    answers = {}
    for name, flavour in NODE_FLAVOURS.items():
        results, _, _, task = _session(flavour, NODE_APP, "index.fails", tmp_path / name)
        doc = _normalize(results[0].json(), task)
        # Frames below the handler are each runtime's own; the rest must agree.
        answers[name] = (results[0].kind, doc["errorType"], doc["errorMessage"], doc["trace"][:2])
    assert answers["lambent"] == (
        "error",
        "Error",
        "boom",
        ["Error: boom", "    at exports.fails [as handler] (/var/task/index.js:13:37)"],
    )
    for name in NODE_FLAVOURS:
        assert answers[name] == answers["lambent"], name


@pytest.mark.parametrize(
    ("source", "handler", "error_type"),
    [
        ("exports.x = 1;", "index.handler", "Runtime.HandlerNotFound"),
        ("exports.handler = async () => {;", "index.handler", "Runtime.UserCodeSyntaxError"),
    ],
    ids=["missing-handler", "syntax-error"],
)
def test_node_init_errors_match_aws_lambda_ric(
    source: str, handler: str, error_type: str, tmp_path: Path
) -> None:
    answers = {}
    for name, (runtime, build) in NODE_FLAVOURS.items():
        with running(runtime, build(source), tmp_path / name, handler=handler) as (h, p):
            error = h.wait_init_error(timeout=60)
            doc = error.json()
            answers[name] = (error.error_type, doc["errorType"], doc["errorMessage"])
            assert p.wait() in (1, 129)  # 129 for the nodejs20.x client, 1 for the 4.x one
    assert answers["lambent"][0] == error_type
    for name in NODE_FLAVOURS:
        assert answers[name] == answers["lambent"], name


def test_node_missing_module_matches_aws_lambda_ric(tmp_path: Path) -> None:
    answers = {}
    for name, (runtime, build) in NODE_FLAVOURS.items():
        code = build("exports.x = 1;")
        with running(runtime, code, tmp_path / name, handler="missing.handler") as (h, p):
            doc = h.wait_init_error(timeout=60).json()
            p.wait()
        # The message names the file that asked: each runtime's own entry point.
        first_line, _, require_stack = doc["errorMessage"].partition("\n")
        answers[name] = (doc["errorType"], first_line, require_stack.startswith("Require stack:"))
    expected = ("Runtime.ImportModuleError", "Error: Cannot find module 'missing'", True)
    assert answers == dict.fromkeys(NODE_FLAVOURS, expected)


@pytest.mark.parametrize("name", list(NODE_FLAVOURS))
def test_node_process_exit(name: str, tmp_path: Path) -> None:
    runtime, build = NODE_FLAVOURS[name]
    with running(runtime, build(NODE_APP), tmp_path, handler="index.exits") as (h, p):
        h.submit({})
        assert p.wait(timeout=60) == 3


def test_node_callback_handlers_match_aws_lambda_ric_3(tmp_path: Path) -> None:
    source = (
        "exports.handler = (event, context, callback) => {"
        " setTimeout(() => callback(null, {waited: context.callbackWaitsForEmptyEventLoop}), 5); };"
    )
    answers = {}
    for name in ("lambent", "aws-lambda-ric@3"):
        runtime, build = NODE_FLAVOURS[name]
        with running(runtime, build(source), tmp_path / name, handler="index.handler") as (h, _):
            answers[name] = h.invoke({}).json()
    assert answers == {"lambent": {"waited": True}, "aws-lambda-ric@3": {"waited": True}}


def test_node_24_refuses_callback_handlers_as_aws_lambda_ric_4(tmp_path: Path) -> None:
    """AWS's nodejs24.x (the 4.x client) fails init for a handler that takes a callback."""
    source = "exports.handler = (event, context, callback) => callback(null, 'no');"
    answers = {}
    for name in ("lambent@24", "aws-lambda-ric@4"):
        runtime, build = NODE_FLAVOURS[name]
        with running(runtime, build(source), tmp_path / name, handler="index.handler") as (h, p):
            error = h.wait_init_error(timeout=60)
            doc = error.json()
            answers[name] = (error.error_type, doc["errorType"], doc["errorMessage"])
            p.wait()
    assert answers["lambent@24"] == answers["aws-lambda-ric@4"]
    assert answers["lambent@24"][0] == "Runtime.CallbackHandlerDeprecated"
