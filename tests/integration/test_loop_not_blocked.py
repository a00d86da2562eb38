"""The control plane never blocks the event loop: a server storing a 50 MB function still
answers everyone else, and no SQL statement runs on the loop's thread.

The server runs in this process (so the test can hold the zip write at a gate), with real
HTTP and real boto3 clients on other threads. Every wait is bounded only against a hang."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sqlite3
import threading
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambent.app import App
from lambent.blobs.store import BlobInfo
from lambent.ops import stats
from lambent.settings import EnvironmentSettings, Settings
from lambent.store.sqlite import SqliteStore
from tests.fixtures.functions import files_zip, python_zip
from tests.support import free_port, http_get

HANG_S = 60.0  # a request here takes milliseconds; only a blocked loop waits this long
ROLE = "arn:aws:iam::000000000000:role/runner"
TRUST = '{"Version":"2012-10-17","Statement":[]}'


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


def big_zip(size: int) -> bytes:
    """A zip just under the 50 MB limit: incompressible bytes, stored."""
    base = files_zip({"app.py": "def handler(e, c):\n    return 'big'\n"})
    buf = io.BytesIO(base)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_STORED) as zf:
        zf.writestr("blob.bin", os.urandom(size))
    return buf.getvalue()


def connections_of(store: object) -> list[sqlite3.Connection]:
    """Every SQLite connection the store holds, however it keeps them."""
    found: list[sqlite3.Connection] = []
    for value in vars(store).values():
        items = value if isinstance(value, list) else [value]
        found += [item for item in items if isinstance(item, sqlite3.Connection)]
    return found


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
        yield app
    finally:
        await app.stop()


async def make_role(app: App) -> None:
    iam = client(app.settings.endpoint, "iam")
    await asyncio.to_thread(iam.create_role, RoleName="runner", AssumeRolePolicyDocument=TRUST)


async def test_a_50_mb_create_does_not_hold_up_other_requests(app: App) -> None:
    """While the 50 MB zip is being written (held at a gate), ListFunctions and GetFunction
    are answered; only then is the write let through and the create completes."""
    await make_role(app)
    lam = client(app.settings.endpoint, "lambda")
    await asyncio.to_thread(
        lam.create_function,
        FunctionName="small",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": python_zip("def handler(e, c):\n    return 1\n")},
    )
    writing = threading.Event()
    gate = threading.Event()
    real_put = app.blobs.put

    def gated_put(data: bytes) -> BlobInfo:
        if len(data) > 1024 * 1024:
            writing.set()
            gate.wait(HANG_S)
        return real_put(data)

    app.blobs.put = gated_put  # type: ignore[method-assign]
    answers: list[object] = []

    def probe() -> None:
        """Another client's cheap requests, sent while the big zip is being written."""
        try:
            if not writing.wait(HANG_S):
                answers.append("the create never reached the write")
                return
            other = client(app.settings.endpoint, "lambda")
            names = [f["FunctionName"] for f in other.list_functions()["Functions"]]
            answers.append(names)
            answers.append(other.get_function(FunctionName="small")["Configuration"]["State"])
        except Exception as exc:
            answers.append(exc)
        finally:
            gate.set()

    prober = threading.Thread(target=probe)
    prober.start()
    created = await asyncio.to_thread(
        lam.create_function,
        FunctionName="big",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": big_zip(48 * 1024 * 1024)},
    )
    await asyncio.to_thread(prober.join, HANG_S)
    assert answers == [["small"], "Active"]
    assert created["CodeSize"] > 48 * 1024 * 1024


async def test_no_sql_statement_runs_on_the_event_loop_thread(app: App) -> None:
    """Every statement the control plane runs, reads and writes, executes on the store's
    own threads (traced on each connection as it runs)."""
    store = app.store
    assert isinstance(store, SqliteStore)
    threads: list[int] = []
    connections = connections_of(store)
    for conn in connections:
        conn.set_trace_callback(lambda _sql: threads.append(threading.get_ident()))
    try:
        await make_role(app)
        lam = client(app.settings.endpoint, "lambda")
        await asyncio.to_thread(
            lam.create_function,
            FunctionName="traced",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": python_zip("def handler(e, c):\n    return 1\n")},
            Publish=True,
        )
        await asyncio.to_thread(lam.get_function, FunctionName="traced")
        await asyncio.to_thread(lam.list_functions)
        await asyncio.to_thread(
            lam.put_function_concurrency, FunctionName="traced", ReservedConcurrentExecutions=5
        )
        await asyncio.to_thread(lam.delete_function, FunctionName="traced")
    finally:
        for conn in connections:
            conn.set_trace_callback(None)
    assert threads, "no statement was traced"
    assert threading.get_ident() not in threads


async def test_the_stats_page_reads_proc_off_the_event_loop_thread(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting the server's descendants reads /proc/*/stat for every process on the host
    (tens of milliseconds on a busy machine): an operator polling the stats page must not
    stall every invoke for that long, so the scan runs on the App's blocking pool."""
    scanned_on: list[int] = []
    real = stats.descendants

    def traced(root: int) -> list[int]:
        scanned_on.append(threading.get_ident())
        return real(root)

    monkeypatch.setattr(stats, "descendants", traced)
    status, body = await asyncio.to_thread(
        http_get, f"{app.settings.endpoint}/_lambent/stats", HANG_S
    )
    assert status == 200
    assert json.loads(body)["descendant_processes"] >= 0
    assert scanned_on and threading.get_ident() not in scanned_on
