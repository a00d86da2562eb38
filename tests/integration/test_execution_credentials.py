"""Each execution environment has its own execution-role credentials (AWS-BEHAVIOURS §9).

Two environments of one function (the second made by a configuration change) get
different AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; STS
GetCallerIdentity with either says arn:aws:sts::<account>:assumed-role/<role>/<function>.
Before, every environment of a function started within an hour shared one key. The keys
are kept in memory only: nothing in the data dir holds their secret.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role

APP = """
import os
import boto3

def handler(event, context):
    me = boto3.client("sts").get_caller_identity()
    return {
        "key": os.environ["AWS_ACCESS_KEY_ID"],
        "secret": os.environ["AWS_SECRET_ACCESS_KEY"],
        "token": os.environ["AWS_SESSION_TOKEN"],
        "arn": me["Arn"],
        "user_id": me["UserId"],
    }
"""


def call(server: ServerProcess, name: str) -> dict[str, Any]:
    response = server.client("lambda").invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return dict(body)


def test_every_environment_has_its_own_credentials(server: ServerProcess) -> None:
    lam = server.client("lambda")
    role = lambda_role(server, "own-keys")
    account = role.split(":")[4]
    lam.create_function(
        FunctionName="own-keys",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
        Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="own-keys")
    first = call(server, "own-keys")
    again = call(server, "own-keys")  # the same (warm) environment: the same keys
    assert again["key"] == first["key"]
    lam.update_function_configuration(FunctionName="own-keys", Description="a new environment")
    lam.get_waiter("function_updated_v2").wait(FunctionName="own-keys")
    second = call(server, "own-keys")
    assert second["key"] != first["key"]
    assert second["secret"] != first["secret"] and second["token"] != first["token"]
    for got in (first, second):
        assert got["key"].startswith("ASIA")
        assert got["arn"] == f"arn:aws:sts::{account}:assumed-role/own-keys/own-keys"
        assert got["user_id"].endswith(":own-keys")
    secrets = [first["secret"].encode(), second["secret"].encode()]
    for path in Path(server.data_dir).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s in data for s in secrets), path
