"""SnapStart and provisioned concurrency through boto3 against a real server."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role

SNAP_APP = """
import os, random, time
from snapshot_restore_py import register_after_restore, register_before_snapshot

INIT_PID_MARK = random.random()   # drawn during init, before the snapshot
time.sleep(0.3)                   # an expensive init
hooks = []

@register_before_snapshot
def before():
    hooks.append("before")

@register_after_restore
def after():
    hooks.append("after")

def handler(event, context):
    return {
        "init_random": INIT_PID_MARK,
        "fresh_random": random.random(),
        "hooks": hooks,
        "init_type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
    }
"""

PLAIN_APP = """
import os
def handler(event, context):
    return {"init_type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
            "stream": context.log_stream_name}
"""


def role(server: ServerProcess) -> str:
    return lambda_role(server, "sp-role")


def wait(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_snapstart_version_restores_from_the_snapshot(server: ServerProcess) -> None:
    lam = server.client("lambda")
    lam.create_function(
        FunctionName="snappy",
        Runtime="python3.12",  # AWS's SnapStart for Python starts at 3.12
        Role=role(server),
        Handler="app.handler",
        Code={"ZipFile": python_zip(SNAP_APP)},
        Timeout=10,
        SnapStart={"ApplyOn": "PublishedVersions"},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="snappy")
    published = lam.publish_version(FunctionName="snappy")
    number = published["Version"]
    assert published["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}

    def active() -> bool:
        cfg = lam.get_function_configuration(FunctionName="snappy", Qualifier=number)
        assert cfg["State"] != "Failed", cfg
        return bool(cfg["State"] == "Active")

    wait(active)
    bodies = []
    for _ in range(2):
        # Two parallel-ish environments: run one invoke while another is still cold.
        resp = lam.invoke(FunctionName="snappy", Qualifier=number, LogType="Tail", Payload=b"{}")
        body = json.loads(resp["Payload"].read())
        bodies.append(body)
        tail = base64.b64decode(resp["LogResult"]).decode()
        report = next(x for x in tail.splitlines() if x.startswith("REPORT"))
        assert "Init Duration" not in report
    assert bodies[0]["hooks"] == ["before", "after"]
    assert bodies[0]["init_type"] == "snap-start"
    # The snapshot's random draw is shared; draws after restore are not.
    assert bodies[0]["init_random"] == bodies[1]["init_random"]


def test_snapstart_on_latest_is_not_applied(server: ServerProcess) -> None:
    lam = server.client("lambda")
    cfg = lam.get_function_configuration(FunctionName="snappy")
    assert cfg["SnapStart"]["OptimizationStatus"] == "Off"


def test_provisioned_concurrency_goes_ready_and_serves_first(server: ServerProcess) -> None:
    lam = server.client("lambda")
    lam.create_function(
        FunctionName="prov",
        Runtime="python3.11",
        Role=role(server),
        Handler="app.handler",
        Code={"ZipFile": python_zip(PLAIN_APP)},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="prov")
    number = lam.publish_version(FunctionName="prov")["Version"]
    lam.create_alias(FunctionName="prov", Name="live", FunctionVersion=number)
    put = lam.put_provisioned_concurrency_config(
        FunctionName="prov", Qualifier="live", ProvisionedConcurrentExecutions=2
    )
    assert put["Status"] == "IN_PROGRESS"

    def ready() -> bool:
        got = lam.get_provisioned_concurrency_config(FunctionName="prov", Qualifier="live")
        assert got["Status"] != "FAILED", got
        return bool(got["Status"] == "READY")

    wait(ready)
    got = lam.get_provisioned_concurrency_config(FunctionName="prov", Qualifier="live")
    assert got["AvailableProvisionedConcurrentExecutions"] == 2
    resp = lam.invoke(FunctionName="prov", Qualifier="live", LogType="Tail", Payload=b"{}")
    body = json.loads(resp["Payload"].read())
    assert body["init_type"] == "provisioned-concurrency"
    tail = base64.b64decode(resp["LogResult"]).decode()
    assert "Init Duration" not in next(x for x in tail.splitlines() if x.startswith("REPORT"))


@pytest.mark.parametrize("qualifier", ["$LATEST"])
def test_provisioned_concurrency_refuses_latest(server: ServerProcess, qualifier: str) -> None:
    lam = server.client("lambda")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_provisioned_concurrency_config(
            FunctionName="prov", Qualifier=qualifier, ProvisionedConcurrentExecutions=1
        )
