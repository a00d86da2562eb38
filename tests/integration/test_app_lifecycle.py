"""The composition root: `stop()` closes everything `start()` opened, and a start that fails
part-way closes what it had opened (threads joined, files closed), in this process."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambent.app import App
from lambent.settings import EnvironmentSettings, Settings
from tests.fixtures.functions import python_zip
from tests.support import free_port


def settings_for(data: Path, port: int) -> Settings:
    return Settings(
        data_dir=data,
        port=port,
        auth="open",
        environments=EnvironmentSettings(sandbox="process"),
    )


def open_files_under(root: Path) -> list[str]:
    """Paths under `root` this process holds open (SQLite files, WAL, blobs...)."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(root)):
            held.append(target)
    return sorted(held)


def threads_of_the_app(before: set[threading.Thread]) -> list[str]:
    """Threads started since `before`, other than the event loop's own default executor
    (asyncio's `to_thread` workers belong to the loop, which joins them at its end)."""
    return sorted(
        t.name
        for t in threading.enumerate()
        if t not in before and t.is_alive() and not t.name.startswith("asyncio_")
    )


def client(endpoint: str, service: str) -> Any:
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 0}, read_timeout=60, connect_timeout=5),
    )


def create_function(endpoint: str) -> None:
    """Exercise the parts that start threads on first use: zip writes, extraction."""
    client(endpoint, "iam").create_role(
        RoleName="runner", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}'
    )
    lam = client(endpoint, "lambda")
    lam.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/runner",
        Handler="app.handler",
        Code={"ZipFile": python_zip("def handler(e, c):\n    return 1\n")},
    )
    lam.get_waiter("function_active_v2").wait(
        FunctionName="f", WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
    )


async def test_stop_closes_everything_start_opened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    before = set(threading.enumerate())
    app = App(settings_for(data, free_port()))
    await app.start()
    await asyncio.to_thread(create_function, app.settings.endpoint)
    assert threads_of_the_app(before), "the app runs threads of its own"
    assert any(p.endswith("state.db") for p in open_files_under(data))
    await app.stop()
    assert threads_of_the_app(before) == []
    assert open_files_under(data) == []
    await app.stop()  # a second stop is harmless


async def test_a_start_that_fails_part_way_closes_what_it_opened(tmp_path: Path) -> None:
    """The port is taken: listening, the last step, fails after the store, the logs, the
    queue, the thread pools and the sandbox have started."""
    data = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        before = set(threading.enumerate())
        app = App(settings_for(data, port))
        with pytest.raises(OSError):
            await app.start()
        assert threads_of_the_app(before) == []
        assert open_files_under(data) == []
    # Nothing was left half-open: the same data dir serves at once.
    again = App(settings_for(data, free_port()))
    await again.start()
    await again.stop()
