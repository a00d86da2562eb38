"""The AWS SDK for JavaScript v3 inside Node functions reaches Lambent with no configuration.

A function on each Node runtime imports the SDK from the runtime (nothing bundled), builds
its clients with no options at all, and calls Lambent: ListFunctions sees the function
itself, STS GetCallerIdentity answers as the execution role's session, and an S3 object
makes a round trip. That needs the SDK where AWS's runtimes have it, the endpoint variables
the JS SDK reads (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>) and the execution role's
credentials in the environment.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures.functions import node_zip
from tests.support import ServerProcess, lambda_role

CALLS = """
  const listed = await lambda.send(new ListFunctionsCommand({}));
  const me = await sts.send(new GetCallerIdentityCommand({}));
  await s3.send(new PutObjectCommand({ Bucket: event.bucket, Key: "k", Body: "from node" }));
  const got = await s3.send(new GetObjectCommand({ Bucket: event.bucket, Key: "k" }));
  return {
    functions: listed.Functions.map((f) => f.FunctionName),
    arn: me.Arn,
    account: me.Account,
    object: await got.Body.transformToString(),
  };
"""

ESM_APP = (
    """
import { LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { S3Client, PutObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";

const lambda = new LambdaClient({});
const sts = new STSClient({});
const s3 = new S3Client({});

export const handler = async (event) => {"""
    + CALLS
    + "};\n"
)

CJS_APP = (
    """
const { LambdaClient, ListFunctionsCommand } = require("@aws-sdk/client-lambda");
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
const { S3Client, PutObjectCommand, GetObjectCommand } = require("@aws-sdk/client-s3");

exports.handler = async (event) => {
  const [lambda, sts, s3] = [new LambdaClient({}), new STSClient({}), new S3Client({})];"""
    + CALLS
    + "};\n"
)

CASES = [(runtime, "esm") for runtime in ("nodejs20.x", "nodejs22.x", "nodejs24.x")]
CASES.append(("nodejs22.x", "cjs"))


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "node-sdk")


@pytest.mark.parametrize(("runtime", "kind"), CASES, ids=[f"{r}-{k}" for r, k in CASES])
def test_the_js_sdk_reaches_lambent_with_no_configuration(
    server: ServerProcess, role: str, runtime: str, kind: str
) -> None:
    name = f"sdk-{kind}-{runtime.replace('.', '-')}"
    bucket = name.lower()
    server.client("s3").create_bucket(Bucket=bucket)
    lam: Any = server.client("lambda")
    code = node_zip(ESM_APP, filename="index.mjs") if kind == "esm" else node_zip(CJS_APP)
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
    response = lam.invoke(FunctionName=name, Payload=json.dumps({"bucket": bucket}))
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    assert name in body["functions"]
    account, role_name = role.split(":")[4], role.rsplit("/", 1)[-1]
    assert body["account"] == account
    assert body["arn"] == f"arn:aws:sts::{account}:assumed-role/{role_name}/{name}"
    assert body["object"] == "from node"
