"""An App with a database joins the cluster before it serves, leaves when it stops, and
refuses to serve once it can no longer be sure of its lease (in this process)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambent.api.dispatch import NOT_SERVING_MESSAGE
from lambent.app import App
from lambent.settings import ClusterSettings, EnvironmentSettings, Settings
from tests.cluster_support import until
from tests.fixtures.functions import python_zip
from tests.support import free_port

pytestmark = pytest.mark.services


def settings_for(data: Path, url: str, cluster: ClusterSettings) -> Settings:
    return Settings(
        data_dir=data,
        port=free_port(),
        auth="open",
        database_url=url,
        environments=EnvironmentSettings(sandbox="process"),
        cluster=cluster,
    )


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def iam_client(endpoint: str) -> Any:
    return lambda_client(endpoint, "iam")


def lambda_client(endpoint: str, service: str = "lambda") -> Any:
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}),
    )


def status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return int(resp.status)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def nodes(url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(url, autocommit=True) as db:
        rows = db.execute("SELECT node_id, role, address FROM cluster_nodes").fetchall()
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


async def test_an_app_joins_before_serving_and_leaves_when_it_stops(
    tmp_path: Path, pg_url: str
) -> None:
    settings = settings_for(tmp_path, pg_url, ClusterSettings(node_id="n1"))
    app = App(settings)
    await app.start()
    try:
        assert nodes(pg_url) == [("n1", "all", f"127.0.0.1:{settings.port}")]
        assert app.membership is not None and app.membership.is_live()
        stats = await asyncio.to_thread(get_json, f"{settings.endpoint}/_lambent/stats")
        assert stats["cluster"]["node_id"] == "n1"
        assert stats["cluster"]["live"] and stats["cluster"]["listening"]
        assert stats["cluster"]["live_nodes"] == 1
    finally:
        await app.stop()
    assert nodes(pg_url) == []


async def test_an_apps_environments_are_its_load_in_the_cluster(
    tmp_path: Path, pg_url: str
) -> None:
    """What placement reads of a node: after an invoke, its idle environment of that
    version, by the version's key, reported at the next heartbeat."""
    settings = settings_for(tmp_path, pg_url, ClusterSettings(node_id="n1", heartbeat_s=0.1))
    app = App(settings)
    await app.start()
    try:
        member = app.membership
        assert member is not None
        lam = lambda_client(settings.endpoint)
        await asyncio.to_thread(deploy, lam, iam_client(settings.endpoint))
        await asyncio.to_thread(lam.invoke, FunctionName="loaded", Payload=b"{}")
        key = (await app.catalog.resolve(settings.account_id, "loaded", None)).version.key

        def idle() -> int:
            nodes = member.known_nodes("worker")
            return nodes[0].load.idle.get(key, 0) if nodes and nodes[0].load else 0

        await until(lambda: idle() == 1)
        [node] = member.known_nodes("worker")
        assert node.load is not None and node.load.busy == 0
    finally:
        await app.stop()


def deploy(lam: Any, iam: Any) -> None:
    role = iam.create_role(RoleName="loaded", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam.create_function(
        FunctionName="loaded",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip("def handler(event, context):\n    return 1\n")},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="loaded")


async def test_an_app_whose_lease_lapsed_refuses_then_serves_once_it_joins_again(
    tmp_path: Path, pg_url: str
) -> None:
    silent = ClusterSettings(node_id="n1", heartbeat_s=3600.0, lease_s=1.0)
    settings = settings_for(tmp_path, pg_url, silent)
    app = App(settings)
    await app.start()
    lam = lambda_client(settings.endpoint)
    try:
        member = app.membership
        assert member is not None
        await asyncio.to_thread(lam.list_functions)
        await until(lambda: not member.is_live())
        with pytest.raises(ClientError) as refused:
            await asyncio.to_thread(lam.list_functions)
        error = refused.value.response
        assert error["Error"] == {"Code": "ServiceException", "Message": NOT_SERVING_MESSAGE}
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
        # The operator's routes still answer.
        assert await asyncio.to_thread(status, f"{settings.endpoint}/health") == 200
        assert await member.heartbeat()  # lapsed: joins again, cache forgotten
        await asyncio.to_thread(lam.list_functions)
    finally:
        await app.stop()
