"""Function logs on PostgreSQL: `lambent serve --database URL` writes what a function prints
into the database, boto3's FilterLogEvents and `lambent logs` read it back, and a second
server on the same schema with a fresh data dir (another node) serves the same logs.

The control plane is in each data dir's SQLite store until the store moves to PostgreSQL
too: the second server never heard of the function, and still answers for its logs. Open
auth gives both servers the same account (with sigv4, each fresh data dir would make an
account of its own until the accounts live in PostgreSQL).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli_support import CliResult, run_cli
from tests.support import ServerProcess, start_server

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
        extra_args=["--sandbox", "process", "--database", url, "--master-key-file", str(key)],
    )


def cli(server: ServerProcess, *args: str, home: Path) -> CliResult:
    """`lambent ARGS` against `server` with open auth's keys."""
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    return run_cli(server, *args, home=home, env=keys)


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


def test_logs_written_by_one_server_are_read_by_another_on_the_same_schema(
    tmp_path: Path, pg_url: str
) -> None:
    key = tmp_path / "master.key"
    marker = f"pg-{uuid.uuid4().hex[:12]}"
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "app.py").write_text(APP)
    writer = serve(tmp_path / "node-a", pg_url, key, port=9311)
    try:
        done = cli(
            writer, "deploy", str(folder), "--name", FUNCTION, "--runtime", "python3.11",
            "--handler", "app.handler", home=folder,
        )  # fmt: skip
        assert done.code == 0, done.stderr
        done = cli(writer, "invoke", FUNCTION, f'{{"marker": "{marker}"}}', home=folder)
        assert done.code == 0, done.stderr
        events = logged(writer, marker)
        assert [e["message"].strip() for e in events] == [f"marker {marker}"]
        stream = events[0]["logStreamName"]
        assert "[$LATEST]" in stream
        done = cli(writer, "logs", FUNCTION, "--since", "10m", home=folder)
        assert done.code == 0, done.stderr
        assert f"marker {marker}" in done.stdout
        assert "START RequestId: " in done.stdout and "REPORT RequestId: " in done.stdout
    finally:
        writer.stop()
    assert not (tmp_path / "node-a" / "logs.db").exists()  # the logs were PostgreSQL's

    reader = serve(tmp_path / "node-b", pg_url, key, port=9312)
    try:
        assert logged(reader, marker) == events
        streams = reader.client("logs").describe_log_streams(logGroupName=GROUP)["logStreams"]
        assert [s["logStreamName"] for s in streams] == [stream]
        groups = reader.client("logs").describe_log_groups(logGroupNamePrefix=GROUP)
        assert [g["logGroupName"] for g in groups["logGroups"]] == [GROUP]
        assert groups["logGroups"][0]["storedBytes"] > 0
        done = cli(reader, "logs", FUNCTION, "--since", "10m", home=folder)
        assert done.code == 0, done.stderr
        assert f"marker {marker}" in done.stdout
    finally:
        reader.stop()
    assert not (tmp_path / "node-b" / "logs.db").exists()
