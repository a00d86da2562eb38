"""Function logs on PostgreSQL: two `lambent serve --database URL` servers on one schema,
each with a data dir of its own. What a function prints on one is read on the other with
boto3's FilterLogEvents, DescribeLogStreams/Groups and `lambent logs` (and followed live
with `lambent logs -f`), both ways; neither data dir holds a log file.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli_support import CliResult, run_cli, start_cli
from tests.support import ServerProcess, http_get, start_server

pytestmark = pytest.mark.services

APP = """
def handler(event, context):
    print("marker", event["marker"])
    return "ok"
"""
FUNCTION = "pg-logged"
GROUP = f"/aws/lambda/{FUNCTION}"
# Far longer than a 50 ms flush takes on a busy machine: only a lost write runs into it.
SEEN_BOUND_S = 30.0


def serve(data: Path, url: str, key: Path, port: int) -> ServerProcess:
    return start_server(
        data,
        port=port,
        auth="open",
        database_url=url,
        extra_args=["--sandbox", "process", "--master-key-file", str(key)],
    )


KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # open auth's


def cli(server: ServerProcess, *args: str, home: Path) -> CliResult:
    return run_cli(server, *args, home=home, env=KEYS)


def logged(server: ServerProcess, marker: str) -> list[dict[str, Any]]:
    """The events carrying `marker`, once FilterLogEvents shows any (bounded wait)."""
    logs = server.client("logs")
    deadline = time.monotonic() + SEEN_BOUND_S
    while True:
        try:
            out = logs.filter_log_events(logGroupName=GROUP, filterPattern=f'"{marker}"')
        except logs.exceptions.ResourceNotFoundException:
            out = {"events": []}
        if out["events"]:
            return list(out["events"])
        assert time.monotonic() < deadline, f"{marker} never reached the logs"
        time.sleep(0.05)


def invoke(server: ServerProcess, marker: str, home: Path) -> None:
    done = cli(server, "invoke", FUNCTION, f'{{"marker": "{marker}"}}', home=home)
    assert done.code == 0, done.stderr


def follow_on_another_server(a: ServerProcess, b: ServerProcess, home: Path) -> None:
    """`lambent logs -f` on b shows, live, what an invocation on a prints."""
    follower = start_cli(b, "logs", FUNCTION, "-f", "--since", "1s", home=home, env=KEYS)
    try:
        live = f"live-{uuid.uuid4().hex[:12]}"
        invoke(a, live, home)
        follower.wait_for(f"marker {live}", timeout=SEEN_BOUND_S)
    finally:
        follower.proc.send_signal(signal.SIGINT)
        try:
            follower.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            follower.proc.kill()
            raise
    assert follower.proc.returncode == 0


def test_logs_written_on_one_server_are_read_on_another_on_the_same_schema(
    tmp_path: Path, pg_url: str
) -> None:
    key = tmp_path / "master.key"  # every node's, the same
    home = tmp_path / "fn"
    home.mkdir()
    (home / "app.py").write_text(APP)
    a = serve(tmp_path / "node-a", pg_url, key, port=9311)
    try:
        b = serve(tmp_path / "node-b", pg_url, key, port=9312)
        try:
            done = cli(
                a, "deploy", str(home), "--name", FUNCTION, "--runtime", "python3.11",
                "--handler", "app.handler", home=home,
            )  # fmt: skip
            assert done.code == 0, done.stderr
            on_a, on_b = (f"pg-{uuid.uuid4().hex[:12]}" for _ in range(2))
            invoke(a, on_a, home)
            invoke(b, on_b, home)
            for marker in (on_a, on_b):
                seen_on_a, seen_on_b = logged(a, marker), logged(b, marker)
                assert seen_on_a == seen_on_b
                assert [e["message"].strip() for e in seen_on_b] == [f"marker {marker}"]
            streams = {logged(a, m)[0]["logStreamName"] for m in (on_a, on_b)}
            assert len(streams) == 2  # an environment on each node, a stream each
            for server in (a, b):
                listed = server.client("logs").describe_log_streams(logGroupName=GROUP)
                # (A node preparing the function may have logged into a stream of its own.)
                assert streams <= {s["logStreamName"] for s in listed["logStreams"]}
                groups = server.client("logs").describe_log_groups(logGroupNamePrefix=GROUP)
                assert [g["logGroupName"] for g in groups["logGroups"]] == [GROUP]
                done = cli(server, "logs", FUNCTION, "--since", "10m", home=home)
                assert done.code == 0, done.stderr
                assert f"marker {on_a}" in done.stdout and f"marker {on_b}" in done.stdout
                assert done.stdout.count("REPORT RequestId: ") == 2
            follow_on_another_server(a, b, home)
            for server in (a, b):
                status, body = http_get(f"{server.endpoint}/_lambent/stats")
                assert status == 200
                assert json.loads(body)["logs"]["dropped"] == 0
        finally:
            b.stop()
    finally:
        a.stop()
    assert not (tmp_path / "node-a" / "logs.db").exists()  # the logs were PostgreSQL's
    assert not (tmp_path / "node-b" / "logs.db").exists()
