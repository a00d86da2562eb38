"""Two servers on one PostgreSQL schema share the async queue.

Events are accepted on node A only. Node B hears of them through NOTIFY alone (it polls
nothing, and no claim of A's has lapsed yet), so B delivering some of them while A lives
is the wake-up between nodes at work. Then A is SIGKILLed mid-delivery: B delivers
everything left, A's claims included once A's lease lapses. None is lost.
"""

from __future__ import annotations

import json
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.test_async_durability import (
    DRAIN_BOUND_S,
    EVENTS,
    RESERVED,
    async_stats,
    deploy,
    seen,
    wait_until,
)
from tests.integration.test_async_durability_pg import queued, serve

pytestmark = pytest.mark.services


def test_another_node_is_woken_and_takes_over_a_dead_nodes_events(
    tmp_path: Path, pg_url: str
) -> None:
    key = tmp_path / "master.key"
    seen_file = tmp_path / "seen.txt"
    a = serve(tmp_path / "a", pg_url, key)
    b = None
    try:
        # 200 ms a delivery, two at once: 30 s for all, time for B to join before the kill.
        lam = deploy(a, "shared", seen_file, sleep_s=0.2)
        lam.put_function_concurrency(FunctionName="shared", ReservedConcurrentExecutions=RESERVED)
        # B starts knowing the function's reservation (another node's change to it reaching
        # B's cache is not what this test is about).
        b = serve(tmp_path / "b", pg_url, key)

        def accept(i: int) -> str:
            resp = lam.invoke(
                FunctionName="shared", InvocationType="Event", Payload=json.dumps({"i": i})
            )
            assert resp["StatusCode"] == 202
            return str(resp["ResponseMetadata"]["RequestId"])

        with ThreadPoolExecutor(16) as pool:
            accepted = set(pool.map(accept, range(EVENTS)))
        assert len(accepted) == EVENTS
        node_b = b
        assert wait_until(lambda: len(set(seen(seen_file))) >= EVENTS // 2, timeout=120)
        # B was woken by A's acceptances: it delivered some of them while A lived.
        assert async_stats(node_b)["attempts"] >= 1
        a.stop(sig=signal.SIGKILL)
        assert len(set(seen(seen_file))) < EVENTS, "delivered before the kill; nothing tested"

        assert wait_until(lambda: accepted <= set(seen(seen_file)), timeout=DRAIN_BOUND_S), (
            f"{len(accepted - set(seen(seen_file)))} accepted events never delivered"
        )
        assert set(seen(seen_file)) == accepted
        assert wait_until(lambda: queued(pg_url) == 0, timeout=60)
        # B's pollers wait while A's hold the reservation (A's claims are visible to B);
        # a throttle may still come in the moment between A taking a token and its claim
        # committing, and backs off. B never throttles itself.
        counters = async_stats(node_b)
        assert counters["throttled_by_own_deliveries"] == 0, counters
    finally:
        a.stop(sig=signal.SIGKILL)
        if b is not None:
            assert b.stop() == 0
