"""Templates through boto3 against a real server (issue 8 §1.5, §1.15): a function turns
Active with its template ready, so its first invoke does not wait for one; a budget keeps
the recently used ones; a function whose template was let go still invokes."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, http_get, lambda_role, running_server

APP = "import os\ndef handler(event, context):\n    return {'event': event, 'pid': os.getpid()}\n"


def stats(server: ServerProcess) -> dict[str, Any]:
    status, body = http_get(f"{server.endpoint}/_lambent/stats")
    assert status == 200, body
    parsed: dict[str, Any] = json.loads(body)
    return parsed


def create_active(server: ServerProcess, role: str, name: str) -> dict[str, Any]:
    lam = server.client("lambda")
    out: dict[str, Any] = lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
        MemorySize=256,
    )
    lam.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    return out


def invoke(server: ServerProcess, name: str, event: Any) -> tuple[Any, str]:
    resp = server.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps(event).encode(), LogType="Tail"
    )
    assert "FunctionError" not in resp, resp["Payload"].read()
    return json.loads(resp["Payload"].read()), base64.b64decode(resp["LogResult"]).decode()


@pytest.fixture(scope="module")
def budgetless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A template budget of 0 MB: only the most recently used template is kept."""
    data = tmp_path_factory.mktemp("lambent-budget0")
    with running_server(Path(data), extra_args=["--template-budget", "0"]) as srv:
        yield srv


def test_active_means_the_first_invoke_finds_its_template_ready(server: ServerProcess) -> None:
    role = lambda_role(server, "templates-role")
    before = stats(server)["template_cache"]
    assert create_active(server, role, "tpl-first")["State"] == "Pending"
    after_active = stats(server)
    assert any("/tpl-first/$LATEST/" in key for key in after_active["templates"])
    got, log = invoke(server, "tpl-first", {"n": 1})
    assert got["event"] == {"n": 1}
    assert "Init Duration" in log  # a cold start, but from the ready template
    cache = stats(server)["template_cache"]
    assert cache["started"] == before["started"] + 1
    assert cache["awaited_by_spawns"] == before["awaited_by_spawns"]  # nobody waited


def test_an_update_is_successful_once_the_new_template_is_ready(server: ServerProcess) -> None:
    role = lambda_role(server, "templates-role")
    create_active(server, role, "tpl-update")
    lam = server.client("lambda")
    before = stats(server)["template_cache"]
    lam.update_function_configuration(FunctionName="tpl-update", Environment={"Variables": {}})
    lam.get_waiter("function_updated_v2").wait(
        FunctionName="tpl-update", WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    got, _ = invoke(server, "tpl-update", "after")
    assert got["event"] == "after"
    cache = stats(server)["template_cache"]
    assert cache["started"] == before["started"] + 1  # the new configuration's template
    assert cache["awaited_by_spawns"] == before["awaited_by_spawns"]
    keys = [k for k in stats(server)["templates"] if "/tpl-update/" in k]
    assert len(keys) == 1  # the old configuration's template is gone


def test_over_budget_templates_go_and_their_functions_still_invoke(
    budgetless: ServerProcess,
) -> None:
    role = lambda_role(budgetless, "templates-role")
    for name in ("lru-a", "lru-b", "lru-c"):
        create_active(budgetless, role, name)
    state = stats(budgetless)
    assert [k.split("/")[1] for k in state["templates"]] == ["lru-c"]  # the most recent
    assert state["template_cache"]["evicted"] == 2
    waited = state["template_cache"]["awaited_by_spawns"]
    first, _ = invoke(budgetless, "lru-a", {"a": 1})  # its template was let go
    assert first["event"] == {"a": 1}
    state = stats(budgetless)
    assert state["template_cache"]["awaited_by_spawns"] == waited + 1
    assert [k.split("/")[1] for k in state["templates"]] == ["lru-a"]
    again, _ = invoke(budgetless, "lru-a", {"a": 2})  # warm: same environment
    assert again["pid"] == first["pid"]
    for name in ("lru-b", "lru-c"):
        got, _ = invoke(budgetless, name, name)
        assert got["event"] == name


GATED = """
import socket
# Init waits until the test lets it go: the version stays Pending exactly that long.
with socket.create_connection(("169.254.100.1", {port}), timeout=60) as gate:
    gate.recv(1)

def handler(event, context):
    return {{"event": event}}
"""


def test_a_pending_version_refuses_invokes_as_aws_does(server: ServerProcess) -> None:
    gate = socket.create_server(("127.0.0.1", 0))
    gate.settimeout(60)
    port = gate.getsockname()[1]
    lam = server.client("lambda")
    lam.create_function(
        FunctionName="tpl-pending",
        Runtime="python3.12",
        Role=lambda_role(server, "templates-role"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(GATED.format(port=port))},
        SnapStart={"ApplyOn": "PublishedVersions"},
        Timeout=60,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="tpl-pending")
    number = lam.publish_version(FunctionName="tpl-pending")["Version"]
    conn, _ = gate.accept()  # the SnapStart init is running: the version is Pending
    try:
        with pytest.raises(lam.exceptions.ResourceConflictException) as caught:
            lam.invoke(FunctionName="tpl-pending", Qualifier=number, Payload=b"{}")
        assert caught.value.response["Error"]["Message"] == (
            "The operation cannot be performed at this time. The function is currently in "
            "the following state: Pending"
        )
        conn.sendall(b"!")
    finally:
        conn.close()
        gate.close()
    lam.get_waiter("function_active_v2").wait(
        FunctionName="tpl-pending", Qualifier=number, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    got = lam.invoke(FunctionName="tpl-pending", Qualifier=number, Payload=b'"now"')
    assert json.loads(got["Payload"].read()) == {"event": "now"}
