"""`lambent serve --role frontend --processes 2`: two processes answer on one port, a
child that dies is replaced, and SIGTERM to the parent stops every child and leaves none
behind."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.support import cluster_secret, http_get, start_frontend

pytestmark = pytest.mark.services


def _pids(endpoint: str, want: int, avoid: frozenset[int] = frozenset()) -> set[int]:
    """Pids answering on the port (each request on a new connection) until `want` of them
    not in `avoid` were seen; bounded against a hang."""
    seen: set[int] = set()
    deadline = time.monotonic() + 60
    while len(seen - avoid) < want:
        assert time.monotonic() < deadline, f"only {seen} answered"
        try:
            status, body = http_get(f"{endpoint}/_lambent/stats")
        except ConnectionResetError:
            continue  # queued on the listener of a process that was just killed
        if status == 200:
            seen.add(int(json.loads(body)["pid"]))
    return seen


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_processes_share_the_port_and_a_dead_one_is_replaced(
    tmp_path: Path, pg_url: str
) -> None:
    server = start_frontend(tmp_path / "data", pg_url, cluster_secret(tmp_path), processes=2)
    try:
        assert any("2 processes" in line for line in server.output), server.output
        first = _pids(server.endpoint, 2)
        assert len(first) == 2 and server.proc.pid not in first
        assert server.client("lambda").list_functions()["Functions"] == []
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        replaced = _pids(server.endpoint, 1, avoid=frozenset(first))
        assert victim not in replaced or len(replaced) >= 2
        children = (first | replaced) - {victim}
    finally:
        status = server.stop()
    assert status == 0, server.output
    # The parent exits only after it has reaped every child.
    assert not [pid for pid in children if _alive(pid)]
