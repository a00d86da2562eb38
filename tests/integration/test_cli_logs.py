"""`lambent logs [-f]` against a real server: past events, and following new ones live."""

from __future__ import annotations

import re
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.integration.cli_support import run_cli, start_cli
from tests.support import ServerProcess

APP = """
def handler(event, context):
    print("marker", event["marker"])
    return "ok"
"""
LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 (\d{4}/\d\d/\d\d/\[\$LATEST\]\S+) (.*)$"
)


@pytest.fixture(scope="module")
def fn(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("logs-fn")
    (folder / "app.py").write_text(APP)
    done = run_cli(
        server, "deploy", str(folder), "--name", "cli-logged", "--runtime", "python3.11",
        "--handler", "app.handler", home=folder,
    )  # fmt: skip
    assert done.code == 0, done.stderr
    return "cli-logged"


def invoke(server: ServerProcess, fn: str, marker: str, home: Path) -> None:
    done = run_cli(server, "invoke", fn, f'{{"marker": "{marker}"}}', home=home)
    assert done.code == 0, done.stderr


def test_past_events_in_order_with_stream_names(
    server: ServerProcess, fn: str, tmp_path: Path
) -> None:
    markers = [f"past-{i}-{uuid.uuid4().hex[:8]}" for i in range(3)]
    for marker in markers:
        invoke(server, fn, marker, tmp_path)
    done = run_cli(server, "logs", fn, "--since", "10m", home=tmp_path)
    assert done.code == 0, done.stderr
    parsed = [LINE.match(line) for line in done.stdout.splitlines()]
    assert all(parsed), done.stdout
    messages = [m.group(2) for m in parsed if m]
    printed = [msg.split()[1] for msg in messages if msg.startswith("marker ")]
    assert printed[-3:] == markers
    assert any(msg.startswith("START RequestId: ") for msg in messages)
    assert any(msg.startswith("REPORT RequestId: ") for msg in messages)
    stamps = [line[:29] for line in done.stdout.splitlines()]
    assert stamps == sorted(stamps)


def test_since_in_the_future_shows_nothing(server: ServerProcess, fn: str, tmp_path: Path) -> None:
    invoke(server, fn, "old", tmp_path)
    done = run_cli(server, "logs", fn, "--since", "2999-01-01T00:00:00Z", home=tmp_path)
    assert done.code == 0, done.stderr
    assert done.stdout == ""


def test_follow_shows_new_invocations_once_and_stops_cleanly_on_ctrl_c(
    server: ServerProcess, fn: str, tmp_path: Path
) -> None:
    invoke(server, fn, "before-follow", tmp_path)
    follower = start_cli(server, "logs", fn, "-f", "--since", "1m", home=tmp_path)
    try:
        follower.wait_for("marker before-follow", timeout=20)
        first, second = (f"live-{uuid.uuid4().hex[:8]}" for _ in range(2))
        invoke(server, fn, first, tmp_path)
        follower.wait_for(f"marker {first}", timeout=20)
        invoke(server, fn, second, tmp_path)
        follower.wait_for(f"marker {second}", timeout=20)
        follower.wait_for("REPORT RequestId", timeout=20)
    finally:
        follower.proc.send_signal(signal.SIGINT)
        try:
            _, err = follower.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            follower.proc.kill()
            raise
    assert follower.proc.returncode == 0
    assert "Traceback" not in err
    seen = [line for line in follower.lines if " marker " in line]
    assert len(seen) == len(set(seen)) == len({line.split(" marker ")[1] for line in seen})


def test_follow_waits_for_the_log_group_of_a_new_function(
    server: ServerProcess, tmp_path: Path
) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    (folder / "app.py").write_text(APP)
    done = run_cli(
        server, "deploy", str(folder), "--name", "cli-fresh", "--runtime", "python3.11",
        "--handler", "app.handler", home=tmp_path,
    )  # fmt: skip
    assert done.code == 0, done.stderr
    assert run_cli(server, "logs", "cli-fresh", home=tmp_path).stderr == (
        "no logs yet for cli-fresh: it has not been invoked\n"
    )
    follower = start_cli(server, "logs", "cli-fresh", "-f", home=tmp_path)
    try:
        invoke(server, "cli-fresh", "first-ever", tmp_path)
        follower.wait_for("marker first-ever", timeout=20)
    finally:
        follower.proc.terminate()
        follower.proc.communicate(timeout=20)


def test_logs_of_an_unknown_function(server: ServerProcess, tmp_path: Path) -> None:
    for extra in ((), ("-f",)):
        done = run_cli(server, "logs", "cli-never-was", *extra, home=tmp_path, timeout=30)
        assert done.code == 1
        assert done.stderr.startswith("lambent: ResourceNotFoundException: Function not found")


def test_bad_since_is_a_usage_error(server: ServerProcess, tmp_path: Path) -> None:
    done = run_cli(server, "logs", "x", "--since", "yesterday", home=tmp_path)
    assert done.code == 2
    assert "--since expects a duration" in done.stderr
