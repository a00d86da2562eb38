"""End to end: a function's prints reach CloudWatch Logs, and its execution-role
credentials sign requests back into Lambent as the assumed role."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.fixtures.functions import python_zip
from tests.support import LAMBDA_TRUST, ServerProcess

# The function calls back into Lambent with the boto3 its runtime provides (as Lambda's
# Python runtimes do), signing with its execution role's credentials from the environment.
APP = """
import boto3
from botocore.config import Config

def handler(event, context):
    print("hello from", context.function_name)
    print("ERROR something to find")
    errors = []
    for endpoint in event["endpoints"]:
        sts = boto3.client(
            "sts", endpoint_url=endpoint, region_name="us-east-1",
            config=Config(connect_timeout=2, retries={"max_attempts": 0}),
        )
        try:
            me = sts.get_caller_identity()
            return {"arn": me["Arn"], "user_id": me["UserId"], "boto3": boto3.__version__}
        except Exception as exc:
            errors.append(f"{endpoint}: {exc!r}")
    return {"errors": errors}
"""


def test_function_logs_and_execution_role_identity(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    lam: Any = server.client("lambda")
    logs: Any = server.client("logs")
    role = iam.create_role(RoleName="logs-e2e", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]
    account = role["Arn"].split(":")[4]
    lam.create_function(
        FunctionName="logs-e2e",
        Runtime="python3.11",
        Role=role["Arn"],
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
        Timeout=20,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="logs-e2e")
    endpoints = [server.endpoint, f"http://host.lambent.internal:{server.port}"]
    resp = lam.invoke(FunctionName="logs-e2e", Payload=json.dumps({"endpoints": endpoints}))
    result = json.loads(resp["Payload"].read())
    assert "arn" in result, result
    assert result["arn"] == f"arn:aws:sts::{account}:assumed-role/logs-e2e/logs-e2e"
    assert result["user_id"] == f"{role['RoleId']}:logs-e2e"

    group = "/aws/lambda/logs-e2e"
    deadline = time.monotonic() + 10  # the log store flushes every 50 ms
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not found:
        try:
            found = logs.filter_log_events(logGroupName=group, filterPattern="ERROR")["events"]
        except logs.exceptions.ResourceNotFoundException:
            found = []
        if not found:
            time.sleep(0.05)
    assert [e["message"].rstrip("\n").split("\t")[-1] for e in found] == ["ERROR something to find"]
    stream = found[0]["logStreamName"]
    assert stream.count("/") == 3 and "[$LATEST]" in stream
    described = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert stream in [s["logStreamName"] for s in described]
    lines = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
    messages = [e["message"] for e in lines["events"]]
    assert any(m.startswith("START RequestId:") for m in messages), messages
    assert any("hello from logs-e2e" in m for m in messages), messages
