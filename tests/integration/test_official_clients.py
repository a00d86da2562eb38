"""The official runtime clients, unmodified, pass the same tests as Lambent's own bootstraps.

Four flavours behind one contract: Lambent's Python runtime, `awslambdaric` from PyPI as a
provided.al2023 custom runtime, Lambent's Node runtime, and the npm `aws-lambda-ric`
built from source on this machine (cached under ~/.cache/lambent-test after the first
build, which takes a couple of minutes).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fixtures.functions import (
    aws_lambda_ric_zip,
    awslambdaric_zip,
    node_zip,
    python_zip,
)
from tests.support import ServerProcess, lambda_role

PYTHON_APP = """
import sys

def handler(event, context):
    action = event.get("action")
    if action == "raise":
        raise ValueError("boom")
    if action == "exit":
        sys.exit(3)
    cc = context.client_context
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "arn": context.invoked_function_arn,
        "memory": str(context.memory_limit_in_mb),
        "remaining": context.get_remaining_time_in_millis(),
        "custom": cc.custom if cc else None,
    }
"""

NODE_APP = """
exports.handler = async (event, context) => {
  if (event.action === "raise") { throw new Error("boom"); }
  if (event.action === "exit") { process.exit(3); }
  return {
    event,
    request_id: context.awsRequestId,
    function_name: context.functionName,
    arn: context.invokedFunctionArn,
    memory: String(context.memoryLimitInMB),
    remaining: context.getRemainingTimeInMillis(),
    custom: context.clientContext
      ? context.clientContext.Custom || context.clientContext.custom
      : null,
  };
};
"""


@dataclass(frozen=True)
class Flavour:
    name: str
    runtime: str
    handler: str
    code: Callable[[], bytes]
    error_type: str  # what an exception's errorType is called in this language


FLAVOURS = [
    Flavour(
        "lambent-python", "python3.11", "app.handler", lambda: python_zip(PYTHON_APP), "ValueError"
    ),
    Flavour(
        "awslambdaric",
        "provided.al2023",
        "app.handler",
        lambda: awslambdaric_zip(PYTHON_APP),
        "ValueError",
    ),
    Flavour("lambent-node", "nodejs20.x", "index.handler", lambda: node_zip(NODE_APP), "Error"),
    Flavour(
        "aws-lambda-ric",
        "provided.al2023",
        "index.handler",
        lambda: aws_lambda_ric_zip(NODE_APP),
        "Error",
    ),
]


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "clients")


@pytest.fixture(scope="module", params=FLAVOURS, ids=lambda f: f.name)
def function(request: pytest.FixtureRequest, server: ServerProcess, role: str) -> str:
    flavour: Flavour = request.param
    lam = server.client("lambda")
    lam.create_function(
        FunctionName=flavour.name,
        Runtime=flavour.runtime,
        Role=role,
        Handler=flavour.handler,
        Code={"ZipFile": flavour.code()},
        Timeout=30,
        MemorySize=512,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=flavour.name)
    return flavour.name


def invoke(server: ServerProcess, name: str, event: Any, **kw: Any) -> tuple[dict[str, Any], Any]:
    resp = server.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event), **kw)
    return resp, json.loads(resp["Payload"].read())


def test_payload_and_context(server: ServerProcess, function: str) -> None:
    ctx = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    resp, body = invoke(server, function, {"hello": ["world", 1]}, ClientContext=ctx)
    assert "FunctionError" not in resp, body
    assert body["event"] == {"hello": ["world", 1]}
    assert body["request_id"] == resp["ResponseMetadata"]["RequestId"]
    assert body["function_name"] == function
    assert body["arn"].endswith(f":function:{function}")
    assert body["memory"] == "512"
    assert 0 < body["remaining"] <= 30000
    assert body["custom"] == {"k": "v"}


def test_handler_exception(server: ServerProcess, function: str) -> None:
    flavour = next(f for f in FLAVOURS if f.name == function)
    resp, body = invoke(server, function, {"action": "raise"})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == flavour.error_type
    assert body["errorMessage"] == "boom"


def test_exit_status(server: ServerProcess, function: str) -> None:
    resp, body = invoke(server, function, {"action": "exit"})
    rid = resp["ResponseMetadata"]["RequestId"]
    assert resp["FunctionError"] == "Unhandled"
    assert body == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3",
    }
    # The next invoke gets a fresh runtime.
    resp, body = invoke(server, function, {"again": True})
    assert body["event"] == {"again": True}
