"""The Node runtimes through a real server, in the sandbox: each on its own Node major.

A function on each Node runtime reports the Node version it runs on, from where, its
AWS_EXECUTION_ENV (issue 8 §1.7: nodejs22.x ran on Node 20) and where it finds the AWS SDK
for JavaScript v3 that the runtime provides (§1.10), imported as an ES module.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures.functions import node_zip
from tests.support import ServerProcess, lambda_role

VERSION_APP = """
import { createRequire } from "node:module";
import { LambdaClient } from "@aws-sdk/client-lambda";

export const handler = async () => ({
  version: process.version,
  env: process.env.AWS_EXECUTION_ENV,
  execPath: process.execPath,
  client: typeof LambdaClient,
  sdk: createRequire(import.meta.url).resolve("@aws-sdk/client-lambda"),
});
"""

NODES = {"nodejs20.x": "20", "nodejs22.x": "22", "nodejs24.x": "24"}


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "node-runtimes")


def deploy_and_invoke(
    server: ServerProcess, role: str, name: str, runtime: str, code: bytes
) -> Any:
    lam = server.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": code},
        Timeout=30,
        MemorySize=512,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    response = lam.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


@pytest.mark.parametrize("runtime", list(NODES))
def test_each_node_runtime_runs_on_its_own_major(
    server: ServerProcess, role: str, runtime: str
) -> None:
    name = f"version-{runtime.replace('.', '-')}"
    code = node_zip(VERSION_APP, filename="index.mjs")
    body = deploy_and_invoke(server, role, name, runtime, code)
    assert body["version"].startswith(f"v{NODES[runtime]}.")
    assert body["env"] == f"AWS_Lambda_{runtime}"
    assert body["execPath"] == "/var/lang/bin/node"
    assert body["client"] == "function"
    assert body["sdk"].startswith("/var/runtime/node_modules/@aws-sdk/client-lambda/")
