"""A function's own SDK reaches Lambent with no setting of its own (issue 8 §1.10).

A Python function calls Lambda, S3 and STS with plain `boto3.client(...)`, a Node one STS
and Lambda with the AWS SDK for JavaScript v3's plain clients: the endpoint comes from
AWS_ENDPOINT_URL, which Lambent sets by default and both SDKs read, and the credentials
from the execution role's variables. Before the fix those calls went to AWS's public endpoints and
timed out inside the sandbox. A function's own AWS_ENDPOINT_URL wins over the default.
Both sandboxes: the namespaces one (the host at 169.254.100.1) and the process one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.functions import node_zip, python_zip
from tests.support import ServerProcess, lambda_role, start_server

APP = """
import os
import boto3
from botocore.config import Config

# Only so that a missing endpoint fails fast instead of at the function's timeout.
FAST = Config(connect_timeout=3, read_timeout=20, retries={"max_attempts": 1})

def handler(event, context):
    out = {"endpoint": os.environ.get("AWS_ENDPOINT_URL")}
    if event.get("only_endpoint"):
        return out
    out["arn"] = boto3.client("sts", config=FAST).get_caller_identity()["Arn"]
    lam = boto3.client("lambda", config=FAST)
    out["functions"] = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    s3 = boto3.client("s3", config=FAST)
    s3.create_bucket(Bucket=event["bucket"])
    s3.put_object(Bucket=event["bucket"], Key="k", Body=b"from a function")
    out["s3"] = s3.get_object(Bucket=event["bucket"], Key="k")["Body"].read().decode()
    return out
"""


NODE_APP = """
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";

export const handler = async () => {
  const me = await new STSClient({}).send(new GetCallerIdentityCommand({}));
  const listed = await new LambdaClient({}).send(new ListFunctionsCommand({}));
  return { arn: me.Arn, functions: listed.Functions.map((f) => f.FunctionName) };
};
"""


@pytest.fixture(scope="module", params=["namespaces", "process"])
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    sandbox = str(request.param)
    if sandbox == "namespaces":
        from tests.sandbox.support import require_sandbox

        require_sandbox()
    server = start_server(tmp_path_factory.mktemp(sandbox), extra_args=["--sandbox", sandbox])
    yield server
    server.stop()


def deploy(
    srv: ServerProcess, name: str, variables: dict[str, str] | None = None, *, node: bool = False
) -> str:
    lam = srv.client("lambda")
    role = lambda_role(srv, "sdk-endpoint")
    lam.create_function(
        FunctionName=name,
        Runtime="nodejs22.x" if node else "python3.12",
        Role=role,
        Handler="index.handler" if node else "app.handler",
        Code={"ZipFile": node_zip(NODE_APP, filename="index.mjs") if node else python_zip(APP)},
        Timeout=60,
        MemorySize=512,
        Environment={"Variables": variables or {}},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return role


def call(srv: ServerProcess, name: str, event: dict[str, Any]) -> dict[str, Any]:
    response = srv.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event))
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return dict(body)


def test_plain_boto3_clients_reach_lambent(srv: ServerProcess) -> None:
    role = deploy(srv, "sdk-caller")
    got = call(srv, "sdk-caller", {"bucket": "from-a-function"})
    account = role.split(":")[4]
    assert got["arn"] == f"arn:aws:sts::{account}:assumed-role/sdk-endpoint/sdk-caller"
    assert "sdk-caller" in got["functions"]
    assert got["s3"] == "from a function"
    # The bucket is Lambent's, seen from outside too.
    body = srv.client("s3").get_object(Bucket="from-a-function", Key="k")["Body"].read()
    assert body == b"from a function"
    assert got["endpoint"].endswith(f":{srv.port}")


def test_a_functions_own_endpoint_wins(srv: ServerProcess) -> None:
    deploy(srv, "sdk-own-endpoint", {"AWS_ENDPOINT_URL": "http://example.invalid:4566"})
    got = call(srv, "sdk-own-endpoint", {"only_endpoint": True})
    assert got["endpoint"] == "http://example.invalid:4566"


def test_the_javascript_sdk_reaches_lambent_too(srv: ServerProcess) -> None:
    role = deploy(srv, "sdk-caller-node", node=True)
    got = call(srv, "sdk-caller-node", {})
    account = role.split(":")[4]
    assert got["arn"] == f"arn:aws:sts::{account}:assumed-role/sdk-endpoint/sdk-caller-node"
    assert "sdk-caller-node" in got["functions"]
