"""Async scheduling against a real server: a backlog on one function never delays another
function's events, and throttles back off only when other traffic holds the concurrency.

Progress is read from the server's own queue (its file, read-only: WAL lets a reader in
beside the writer; or its PostgreSQL table with --database): an event leaves it when it is
settled for good.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, http_get, lambda_role, start_server

SLEEPER = """
import time

def handler(event, context):
    time.sleep(event.get("s", 0))
    print("RAN " + context.aws_request_id)
    return "ok"
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("async-sched"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lam(srv: ServerProcess) -> Any:
    return srv.client("lambda", max_pool_connections=32)


@pytest.fixture(scope="module")
def create(srv: ServerProcess, lam: Any) -> Callable[[str, int | None], None]:
    role = lambda_role(srv, "sched-role")

    def make(name: str, reserved: int | None) -> None:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": python_zip(SLEEPER)},
            Timeout=30,
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        if reserved is not None:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)

    return make


def queued(srv: ServerProcess, name: str, *, waiting_only: bool = False) -> int:
    """Events for `name` not yet settled for good (waiting, backing off or running), or
    only those no delivery has claimed yet."""
    where = " AND claimed_until IS NULL" if waiting_only else ""
    pattern = f'%:function:{name}"%'
    if srv.database_url is not None:
        import psycopg

        with psycopg.connect(srv.database_url, autocommit=True) as pg:
            found = pg.execute(
                f"SELECT COUNT(*) FROM queue_events WHERE destination LIKE %s{where}", (pattern,)
            ).fetchone()
        assert found is not None
        return int(found[0])
    path = Path(srv.data_dir) / "queue.db"
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        row = db.execute(
            f"SELECT COUNT(*) FROM events WHERE destination LIKE ?{where}", (pattern,)
        ).fetchone()
    return int(row[0])


def async_stats(srv: ServerProcess) -> dict[str, Any]:
    status, body = http_get(f"{srv.endpoint}/_lambent/stats")
    assert status == 200
    return dict(json.loads(body)["async"])


def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    """Poll a file- or stats-backed condition with a deadline (no event to wait on)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def send(lam: Any, name: str, payloads: list[dict[str, Any]]) -> None:
    def one(payload: dict[str, Any]) -> None:
        resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload))
        assert resp["StatusCode"] == 202

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, payloads))


def test_a_backlog_on_one_function_does_not_delay_another(
    srv: ServerProcess, lam: Any, create: Callable[[str, int | None], None]
) -> None:
    # A: 8 at a time, 200 events of 0.5 s: a backlog of about 12 s at its own pace.
    create("fair-a", 8)
    create("fair-b", None)
    send(lam, "fair-a", [{"s": 0.5}] * 200)
    send(lam, "fair-b", [{"s": 0}] * 5)
    assert wait_until(lambda: queued(srv, "fair-b") == 0, timeout=120)
    # B's events were accepted after all of A's and did not wait for them: some of A's
    # events had not even been claimed yet.
    assert queued(srv, "fair-a", waiting_only=True) > 0
    assert wait_until(lambda: queued(srv, "fair-a") == 0, timeout=300)


def test_an_event_is_throttled_while_sync_traffic_holds_the_reserved_concurrency(
    srv: ServerProcess, lam: Any, create: Callable[[str, int | None], None]
) -> None:
    create("held", 1)
    sync_client = srv.client("lambda", read_timeout=60)
    before = async_stats(srv)["throttled"]
    done = threading.Event()

    def hold() -> None:
        try:
            sync_client.invoke(FunctionName="held", Payload=json.dumps({"s": 3}))
        finally:
            done.set()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        # The sync invoke holds the function's one lease once the server counts it.
        assert wait_until(lambda: leases_of(srv) >= 1, timeout=60)
        send(lam, "held", [{"s": 0}])
        assert wait_until(lambda: async_stats(srv)["throttled"] > before, timeout=60)
        assert queued(srv, "held") == 1  # backing off, not lost
    finally:
        holder.join(timeout=120)
    assert done.is_set()
    # Once the sync invoke is over, the event runs at its next try (1 s, 2 s, ... backoff).
    assert wait_until(lambda: queued(srv, "held") == 0, timeout=120)
    assert async_stats(srv)["throttled_by_own_deliveries"] == 0


def leases_of(srv: ServerProcess) -> int:
    status, body = http_get(f"{srv.endpoint}/_lambent/stats")
    assert status == 200
    return int(json.loads(body)["leases_in_use"])
