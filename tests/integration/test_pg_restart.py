"""PostgreSQL restarted under load (issue 9 §3): requests during the outage get an
AWS-shaped 5xx rather than a hang, everything reconnects by itself once the database is
back, and nothing accepted (a 202, a created function) is lost.

The database is a private PostgreSQL the test starts and restarts (tests/pg_private.py);
the machine's shared one is never touched.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_async_durability import deploy, seen, wait_until
from tests.pg_private import private_postgres
from tests.support import start_server

pytestmark = pytest.mark.services

BEFORE = AFTER = 20


def outcome(call: Callable[[], Any]) -> tuple[str, int, float]:
    """(error code or "ok", HTTP status, seconds) of one call."""
    start = time.monotonic()
    try:
        resp = call()
        status = int(resp["ResponseMetadata"]["HTTPStatusCode"])
        return "ok", status, time.monotonic() - start
    except ClientError as exc:
        meta = exc.response["ResponseMetadata"]
        code = str(exc.response["Error"]["Code"])
        return code, int(meta["HTTPStatusCode"]), time.monotonic() - start


def test_a_restart_under_load_answers_5xx_then_recovers_and_loses_nothing(
    tmp_path: Path,
) -> None:
    seen_file = tmp_path / "seen.txt"
    with private_postgres() as pg:
        srv = start_server(
            tmp_path / "data",
            extra_args=["--sandbox", "process", "--database", pg.url, "--role", "all"],
        )
        try:
            lam = deploy(srv, "steady", seen_file, sleep_s=0.01)

            def accept(i: int) -> Any:
                payload = json.dumps({"i": i})
                return lam.invoke(FunctionName="steady", InvocationType="Event", Payload=payload)

            accepted = {accept(i)["ResponseMetadata"]["RequestId"] for i in range(BEFORE)}

            # Sync load all along: each answer is kept, none may hang.
            stop = threading.Event()
            sync: list[tuple[str, int, float]] = []

            def load() -> None:
                while not stop.is_set():
                    sync.append(outcome(lambda: lam.invoke(FunctionName="steady", Payload=b"{}")))

            loader = threading.Thread(target=load)
            loader.start()
            try:
                pg.stop()
                during = [
                    outcome(lam.list_functions),
                    outcome(lambda: accept(-1)),
                    outcome(lambda: lam.get_function(FunctionName="steady")),
                ]
                pg.start()
                back = time.monotonic()
                recovered = wait_until(lambda: outcome(lambda: accept(-2))[0] == "ok", 120)
                reconnect_s = time.monotonic() - back
            finally:
                stop.set()
                loader.join(timeout=150)
            assert recovered, "the server never recovered after PostgreSQL came back"
            print(f"during the outage: {during}; recovered {reconnect_s:.2f} s after restart")
            print(f"sync answers: {len(sync)}, codes {sorted({c for c, _, _ in sync})}")
            # During the outage: refused with a 5xx in AWS's shape, never a false 202.
            for code, status, _ in during:
                if code != "ok":
                    assert status >= 500 and code in ("ServiceException", "InternalFailure"), (
                        code,
                        status,
                    )
            assert during[1][0] != "ok", "an Event invoke was accepted with no database"
            assert all(status in (200, 500, 502, 503) for _, status, _ in sync), sync
            assert not loader.is_alive(), "a sync invoke hung"

            accepted |= {accept(i)["ResponseMetadata"]["RequestId"] for i in range(AFTER)}
            lam.create_function(  # the control plane writes again
                FunctionName="after",
                Runtime="python3.11",
                Role=lam.get_function(FunctionName="steady")["Configuration"]["Role"],
                Handler="app.handler",
                Code={"ZipFile": _zip()},
            )
            assert wait_until(lambda: accepted <= set(seen(seen_file)), 180), (
                f"{len(accepted - set(seen(seen_file)))} accepted events never delivered"
            )
        finally:
            assert srv.stop() == 0


def _zip() -> bytes:
    from tests.fixtures.functions import python_zip

    return python_zip("def handler(event, context):\n    return 1\n")
