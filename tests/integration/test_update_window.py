"""The update window as AWS has it (AWS-BEHAVIOURS.md §3): while an update is InProgress,
GetFunction says so with AWS's reasons and a second update gets 409; UpdateFunctionCode with
Publish=True answers the new version Pending, which settles with $LATEST.

Lambent's window lasts as long as the new code's extraction and template start, a few
milliseconds, so the server runs in this process and the test holds the extraction at a
gate: the window stays open exactly until the test lets it go. Real HTTP, real boto3 on
other threads; every wait is a boto3 waiter or bounded only against a hang."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambent.app import App
from lambent.settings import EnvironmentSettings, Settings
from tests.fixtures.functions import python_zip
from tests.support import free_port

HANG_S = 60.0
WAIT = {"Delay": 1, "MaxAttempts": 60}
ROLE = "arn:aws:iam::000000000000:role/runner"
TRUST = '{"Version":"2012-10-17","Statement":[]}'
CREATING = ("The function is being created.", "Creating")


def client(endpoint: str) -> Any:
    factory: Any = boto3.client
    return factory(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 0}, read_timeout=HANG_S, connect_timeout=5),
    )


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(
        data_dir=tmp_path / "data",
        port=free_port(),
        auth="open",
        environments=EnvironmentSettings(sandbox="process"),
    )
    app = App(settings)
    await app.start()
    try:
        iam = boto3.client(
            "iam",
            endpoint_url=settings.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        await asyncio.to_thread(iam.create_role, RoleName="runner", AssumeRolePolicyDocument=TRUST)
        yield app
    finally:
        await app.stop()


@contextmanager
def extraction_held(app: App) -> Iterator[None]:
    """Every extraction started inside the block waits until the block ends."""
    gate = threading.Event()
    real = app.blobs.extracted

    def held(sha: str) -> Path:
        gate.wait(HANG_S)
        return real(sha)

    app.blobs.extracted = held  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        gate.set()
        app.blobs.extracted = real  # type: ignore[method-assign]


async def created(lam: Any, name: str) -> None:
    await asyncio.to_thread(
        lam.create_function,
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Description="from latest",
        Code={"ZipFile": python_zip("def handler(e, c):\n    return 1\n")},
    )
    waiter = lam.get_waiter("function_active_v2")
    await asyncio.to_thread(waiter.wait, FunctionName=name, WaiterConfig=WAIT)


def new_code() -> bytes:
    return python_zip("def handler(e, c):\n    return 2\n")


async def test_a_second_update_inside_the_window_gets_awss_conflict(app: App) -> None:
    lam = client(app.settings.endpoint)
    await created(lam, "window")
    arn = "arn:aws:lambda:us-east-1:000000000000:function:window"
    with extraction_held(app):
        await asyncio.to_thread(lam.update_function_code, FunctionName="window", ZipFile=new_code())
        got = await asyncio.to_thread(lam.get_function, FunctionName="window")
        cfg = got["Configuration"]
        assert (cfg["State"], cfg["LastUpdateStatus"]) == ("Active", "InProgress")
        assert (cfg["LastUpdateStatusReason"], cfg["LastUpdateStatusReasonCode"]) == CREATING
        for second in (
            lambda: lam.update_function_configuration(FunctionName="window", Timeout=9),
            lambda: lam.update_function_code(FunctionName="window", ZipFile=new_code()),
            lambda: lam.publish_version(FunctionName="window"),
        ):
            with pytest.raises(ClientError) as caught:
                await asyncio.to_thread(second)
            resp = caught.value.response
            assert resp["Error"]["Code"] == "ResourceConflictException"
            assert resp["ResponseMetadata"]["HTTPStatusCode"] == 409
            assert resp["Error"]["Message"] == (
                "The operation cannot be performed at this time. An update is in progress for "
                f"resource: {arn}"
            )
    waiter = lam.get_waiter("function_updated_v2")
    await asyncio.to_thread(waiter.wait, FunctionName="window", WaiterConfig=WAIT)
    done = await asyncio.to_thread(
        lam.update_function_configuration, FunctionName="window", Timeout=9
    )
    assert done["LastUpdateStatus"] == "InProgress"


async def test_update_code_with_publish_answers_the_new_version_pending(app: App) -> None:
    lam = client(app.settings.endpoint)
    await created(lam, "pub")
    arn = "arn:aws:lambda:us-east-1:000000000000:function:pub"
    with extraction_held(app):
        answer = await asyncio.to_thread(
            lam.update_function_code, FunctionName="pub", ZipFile=new_code(), Publish=True
        )
        assert answer["Version"] == "1"
        assert answer["FunctionArn"] == f"{arn}:1"
        assert answer["Description"] == "from latest"
        assert (answer["State"], answer["StateReason"], answer["StateReasonCode"]) == (
            "Pending",
            *CREATING,
        )
        assert [key for key in answer if key.startswith("LastUpdateStatus")] == []
        latest = await asyncio.to_thread(lam.get_function_configuration, FunctionName="pub")
        assert latest["LastUpdateStatus"] == "InProgress"
        version = await asyncio.to_thread(
            lam.get_function_configuration, FunctionName="pub", Qualifier="1"
        )
        assert version["State"] == "Pending"
        assert version["RevisionId"] == answer["RevisionId"]
    waiter = lam.get_waiter("function_updated_v2")
    for qualifier in ("1", "$LATEST"):
        await asyncio.to_thread(
            waiter.wait, FunctionName="pub", Qualifier=qualifier, WaiterConfig=WAIT
        )
    settled = await asyncio.to_thread(
        lam.get_function_configuration, FunctionName="pub", Qualifier="1"
    )
    assert (settled["State"], settled["LastUpdateStatus"]) == ("Active", "Successful")
    assert settled["RevisionId"] != answer["RevisionId"]  # a state change, a new revision
