"""Two `lambent serve --database` processes on one schema: an UpdateFunctionCode answered
by one frontend is what the very next invoke on the other runs (issue 9 §2: a frontend
never serves a stale version after UpdateFunctionCode returns), twenty times over to catch
a race, and a function created on one is invoked through the other at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.functions import python_zip
from tests.pg import fresh_schema
from tests.support import ServerProcess, lambda_role, start_server

pytestmark = pytest.mark.services

ROUNDS = 20


def code(version: int) -> bytes:
    return python_zip(f"def handler(event, context):\n    return {{'v': {version}}}\n")


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


def start(data: Path, database: str, key: Path) -> ServerProcess:
    return start_server(data, database_url=database, extra_args=["--master-key-file", str(key)])


def answer(lam: Any, name: str) -> int:
    resp = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in resp, resp["Payload"].read()
    return int(json.loads(resp["Payload"].read())["v"])


def test_the_invoke_after_an_update_on_another_frontend_runs_the_new_code(
    tmp_path: Path, database: str
) -> None:
    key = tmp_path / "master.key"  # shared by every node of a cluster
    a = start(tmp_path / "a", database, key)
    b = start(tmp_path / "b", database, key)
    try:
        root = a.credentials()
        lam_a, lam_b = a.client("lambda"), b.client("lambda", keys=root)
        role = lambda_role(a, "fresh-role")
        lam_b.create_function(
            FunctionName="fresh",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": code(0)},
        )
        lam_b.get_waiter("function_active_v2").wait(FunctionName="fresh")
        assert answer(lam_a, "fresh") == 0  # created and settled on B, served by A
        for version in range(1, ROUNDS + 1):
            lam_b.update_function_code(FunctionName="fresh", ZipFile=code(version))
            assert answer(lam_a, "fresh") == version
            assert answer(lam_a, "fresh") == version  # warm on A: the same
            lam_b.get_waiter("function_updated_v2").wait(FunctionName="fresh")
    except BaseException:
        for name, server in (("A", a), ("B", b)):  # shown with the failure
            print(f"--- {name} (exit {server.proc.poll()}):", *server.output[-40:], sep="\n")
        raise
    finally:
        b.stop()
        a.stop()
