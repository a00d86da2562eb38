"""With --database, no blob ever touches PostgreSQL from the event loop's thread: storing a
zip, serving Code.Location from a node that lacks it (a fetch), and S3 puts, reads and
deletes (the reference counts too) all run on the App's blocking pool.

The server runs in this process, with real HTTP and boto3 clients on other threads; every
PgBlobs call records the thread it ran on."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambent.app import App
from lambent.blobs.postgres import PgBlobs
from lambent.settings import EnvironmentSettings, Settings
from tests.fixtures.functions import python_zip
from tests.support import free_port, http_get

pytestmark = pytest.mark.services

HANG_S = 60.0
ROLE = "arn:aws:iam::000000000000:role/runner"
TRUST = '{"Version":"2012-10-17","Statement":[]}'
TRACED = ("put", "read", "exists", "remove", "pin", "unpin")


def client(endpoint: str, service: str) -> Any:
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 0}, read_timeout=HANG_S, connect_timeout=5),
    )


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """(method, thread) of every PgBlobs call."""
    seen: list[tuple[str, int]] = []

    def traced(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(real)
        def call(self: PgBlobs, *args: Any) -> Any:
            seen.append((name, threading.get_ident()))
            return real(self, *args)

        return call

    for name in TRACED:
        monkeypatch.setattr(PgBlobs, name, traced(name, getattr(PgBlobs, name)))
    return seen


@pytest.fixture
async def app(tmp_path: Path, pg_url: str) -> AsyncIterator[App]:
    settings = Settings(
        data_dir=tmp_path / "data",
        port=free_port(),
        auth="open",
        database_url=pg_url,
        environments=EnvironmentSettings(sandbox="process"),
    )
    app = App(settings)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def test_no_blob_reaches_postgresql_from_the_event_loop_thread(
    app: App, calls: list[tuple[str, int]]
) -> None:
    endpoint = app.settings.endpoint
    iam, lam, s3 = (client(endpoint, s) for s in ("iam", "lambda", "s3"))
    await asyncio.to_thread(iam.create_role, RoleName="runner", AssumeRolePolicyDocument=TRUST)
    code = python_zip("def handler(e, c):\n    return 1\n")
    await asyncio.to_thread(
        lam.create_function,
        FunctionName="traced",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": code},
    )
    app.blobs.remove(hashlib.sha256(code).hexdigest())  # as on a node that never had it
    got = await asyncio.to_thread(lam.get_function, FunctionName="traced")
    assert await asyncio.to_thread(http_get, got["Code"]["Location"]) == (200, code)
    await asyncio.to_thread(s3.create_bucket, Bucket="traced")
    await asyncio.to_thread(s3.put_object, Bucket="traced", Key="k", Body=b"x" * 100_000)
    body = await asyncio.to_thread(s3.get_object, Bucket="traced", Key="k")
    assert await asyncio.to_thread(body["Body"].read) == b"x" * 100_000
    await asyncio.to_thread(s3.delete_object, Bucket="traced", Key="k")
    assert {name for name, _ in calls} >= {"put", "read", "pin", "unpin"}
    assert threading.get_ident() not in {thread for _, thread in calls}
