"""A server on PostgreSQL (`--database`) keeps nothing it needs in its data dir but the
master key: SIGKILL it, restart it on the same schema with a fresh data dir and the same
master key file, and its functions, roles, users and keys are all there and work. A node
with another master key, or no reachable database, refuses to start in one line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.functions import python_zip
from tests.pg import fresh_schema
from tests.support import REPO, ServerProcess, cluster_secret, lambda_role, start_server

pytestmark = pytest.mark.services

APP = "def handler(event, context):\n    return {'echo': event, 'v': 1}\n"


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


def start(data: Path, database: str, key: Path) -> ServerProcess:
    return start_server(data, database_url=database, extra_args=["--master-key-file", str(key)])


def test_a_killed_server_restarts_on_the_database_with_a_fresh_data_dir(
    tmp_path: Path, database: str
) -> None:
    key = tmp_path / "master.key"  # shared by every node of a cluster
    first = start(tmp_path / "node-1", database, key)
    try:
        root = first.credentials()
        role = lambda_role(first, "restart-role")
        lam = first.client("lambda")
        lam.create_function(
            FunctionName="survivor",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": python_zip(APP)},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="survivor")
        lam.publish_version(FunctionName="survivor")
        lam.create_alias(FunctionName="survivor", Name="live", FunctionVersion="1")
        iam = first.client("iam")
        iam.create_user(UserName="operator")
        made = iam.create_access_key(UserName="operator")["AccessKey"]
        user_keys = (made["AccessKeyId"], made["SecretAccessKey"])
    finally:
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL

    second = start(tmp_path / "node-2", database, key)
    try:
        assert not (second.data_dir / "credentials").exists()  # no new account was made
        lam = second.client("lambda", keys=root)
        assert lam.get_function(FunctionName="survivor")["Configuration"]["State"] == "Active"
        assert lam.get_alias(FunctionName="survivor", Name="live")["FunctionVersion"] == "1"
        answer = lam.invoke(FunctionName="survivor:live", Payload=b'{"n": 1}')
        assert json.loads(answer["Payload"].read()) == {"echo": {"n": 1}, "v": 1}
        iam = second.client("iam", keys=root)
        assert iam.get_role(RoleName="restart-role")["Role"]["Arn"] == role
        who = second.client("sts", keys=user_keys).get_caller_identity()
        assert who["Arn"].endswith(":user/operator")
    finally:
        second.stop()
    # A node that was not given the cluster's key (it makes one of its own) is refused.
    done = serve(tmp_path / "node-3", database)
    assert done.returncode == 1, done.stderr
    assert "every node of a cluster needs the same --master-key-file" in done.stderr
    assert "Traceback" not in done.stderr


def serve(data: Path, database: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`lambent serve` expected to stop at start-up."""
    return subprocess.run(
        [
            *(sys.executable, "-m", "lambent", "serve", "--port", "0"),
            *("--data-dir", str(data), "--database", database, *args),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(REPO),
        check=False,
    )


@pytest.mark.parametrize(
    "how", [pytest.param((), id="all"), pytest.param(("--processes", "2"), id="processes")]
)
def test_an_unreachable_database_stops_the_start_in_one_line(
    tmp_path: Path, how: tuple[str, ...]
) -> None:
    """Also for N frontend processes: said once by their supervisor, not by each child."""
    args = ("--role", "frontend", "--cluster-secret-file", str(cluster_secret(tmp_path)), *how)
    done = serve(tmp_path / "data", "postgresql://postgres@127.0.0.1:1/test", *args if how else ())
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(
        "lambent serve: cannot connect to PostgreSQL at postgres@127.0.0.1:1/test"
    )
