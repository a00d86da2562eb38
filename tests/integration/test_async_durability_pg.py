"""Nothing accepted is lost on PostgreSQL either: `lambent serve --database URL` accepts an
async load, is SIGKILLed halfway through delivery, and a new server on the same schema
(a fresh data dir, the same `--master-key-file`) delivers every accepted event
(test_async_durability.py is the SQLite original).

A fresh data dir is a new node id (`DATA/node-id`), so the new server does not take the
dead node's claims back at start as a server restarted on its data dir would: the events
that were being delivered at the kill come back when the dead node's lease lapses (15 s
after its last renewal), and everything else as soon as the function's concurrency is free
(the dead node's admission tokens lapse after their own lease). Functions, code and the
queue are all PostgreSQL's; nothing comes from the old data dir.
"""

from __future__ import annotations

import json
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.integration.test_async_durability import (
    DRAIN_BOUND_S,
    EVENTS,
    HANDLER_S,
    RESERVED,
    async_stats,
    deploy,
    seen,
    wait_until,
)
from tests.support import ServerProcess, start_server

pytestmark = pytest.mark.services


def serve(data: Path, url: str, key: Path, retry_base_s: float = 60.0) -> ServerProcess:
    return start_server(
        data,
        extra_args=[
            "--sandbox",
            "process",
            "--database",
            url,
            "--master-key-file",
            str(key),
            "--async-retry-base",
            str(retry_base_s),
        ],
    )


def queued(url: str) -> int:
    """Events left in the queue; -1 when the (shared, busy) server refuses a connection now."""
    try:
        with psycopg.connect(url, autocommit=True) as db:
            row = db.execute("SELECT count(*) FROM queue_events").fetchone()
            return int(row[0]) if row else -1
    except psycopg.OperationalError:
        return -1


def test_sigkill_mid_delivery_then_a_new_node_delivers_everything(
    tmp_path: Path, pg_url: str
) -> None:
    data = tmp_path / "data"
    key = tmp_path / "master.key"
    seen_file = tmp_path / "seen.txt"
    srv = serve(data, pg_url, key)
    try:
        lam = deploy(srv, "durable", seen_file, sleep_s=HANDLER_S)
        lam.put_function_concurrency(FunctionName="durable", ReservedConcurrentExecutions=RESERVED)

        def accept(i: int) -> str:
            resp = lam.invoke(
                FunctionName="durable", InvocationType="Event", Payload=json.dumps({"i": i})
            )
            assert resp["StatusCode"] == 202
            return str(resp["ResponseMetadata"]["RequestId"])

        with ThreadPoolExecutor(16) as pool:
            accepted = set(pool.map(accept, range(EVENTS)))
        assert len(accepted) == EVENTS

        assert wait_until(lambda: len(set(seen(seen_file))) >= EVENTS // 2, timeout=60)
        srv.stop(sig=signal.SIGKILL)
        at_kill = set(seen(seen_file))
        assert len(at_kill) < EVENTS, "delivery finished before the kill; nothing was tested"
    finally:
        srv.stop(sig=signal.SIGKILL)
    assert not (data / "queue.db").exists()  # the queue was PostgreSQL's

    restarted = serve(tmp_path / "fresh", pg_url, key)  # another node
    try:
        assert wait_until(lambda: accepted <= set(seen(seen_file)), timeout=DRAIN_BOUND_S), (
            f"{len(accepted - set(seen(seen_file)))} accepted events never delivered"
        )
        assert set(seen(seen_file)) == accepted  # and nothing that was not accepted
        assert wait_until(lambda: queued(pg_url) == 0, timeout=60)
        # Deliveries running at the kill were the dead node's claims: they lapsed and the
        # new node claimed them again.
        assert any("claimed again" in line for line in restarted.output), restarted.output
        # The dead node's admission tokens (cluster admission, concurrency/tokens.py) hold
        # the function's reserved concurrency until they lapse too. While its claims are
        # live the new node's pollers wait for them; once they lapse, or if it held tokens
        # and no claim, what holds the concurrency is not a poller: the events are
        # throttled and back off, as for other traffic. The scheduler never throttles
        # itself.
        counters = async_stats(restarted)
        assert counters["throttled_by_own_deliveries"] == 0, counters
    finally:
        assert restarted.stop() == 0


def test_retry_state_survives_on_another_node(tmp_path: Path, pg_url: str) -> None:
    """A failing event killed between attempts resumes where it was on the next node: 3
    attempts in all (its retry state lives in PostgreSQL, not with the node)."""
    data = tmp_path / "data"
    key = tmp_path / "master.key"
    seen_file = tmp_path / "seen.txt"
    srv = serve(data, pg_url, key, retry_base_s=3.0)
    try:
        lam = deploy(srv, "flaky", seen_file, sleep_s=0)
        lam.put_function_event_invoke_config(FunctionName="flaky", MaximumRetryAttempts=2)
        resp = lam.invoke(
            FunctionName="flaky", InvocationType="Event", Payload=json.dumps({"fail": True})
        )
        request_id = resp["ResponseMetadata"]["RequestId"]
        assert wait_until(lambda: len(seen(seen_file)) >= 1, timeout=30)
        # Killed once the first attempt is settled (its retry scheduled 3 s out).
        assert wait_until(lambda: async_stats(srv)["attempts"] >= 1, timeout=30)
    finally:
        srv.stop(sig=signal.SIGKILL)

    restarted = serve(tmp_path / "fresh", pg_url, key, retry_base_s=3.0)  # another node
    try:
        # Settled for good, the event leaves the queue: no attempt can follow it.
        assert wait_until(lambda: queued(pg_url) == 0, timeout=60)
        assert seen(seen_file) == [request_id] * 3
    finally:
        assert restarted.stop() == 0
