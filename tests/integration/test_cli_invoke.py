"""`lambent invoke` against a real server: payload sources, function errors, the log tail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli_support import run_cli
from tests.support import ServerProcess

APP = """
def handler(event, context):
    print("got", event)
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("asked to fail")
    return {"event": event, "version": context.function_version}
"""


@pytest.fixture(scope="module")
def fn(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("invoke-fn")
    (folder / "app.py").write_text(APP)
    done = run_cli(
        server, "deploy", str(folder), "--name", "cli-echo", "--runtime", "python3.11",
        "--handler", "app.handler", "--publish", home=folder,
    )  # fmt: skip
    assert done.code == 0, done.stderr
    return "cli-echo"


def answer(stdout: str) -> object:
    assert stdout.endswith("\n")
    return json.loads(stdout)


def test_payload_as_json_text(server: ServerProcess, fn: str, tmp_path: Path) -> None:
    done = run_cli(server, "invoke", fn, '{"a": [1, 2]}', home=tmp_path)
    assert done.code == 0, done.stderr
    assert answer(done.stdout) == {"event": {"a": [1, 2]}, "version": "$LATEST"}
    assert done.stderr == ""


def test_payload_from_stdin(server: ServerProcess, fn: str, tmp_path: Path) -> None:
    done = run_cli(server, "invoke", fn, "-", stdin=b'{"from": "stdin"}', home=tmp_path)
    assert done.code == 0, done.stderr
    assert answer(done.stdout) == {"event": {"from": "stdin"}, "version": "$LATEST"}


def test_payload_from_file(server: ServerProcess, fn: str, tmp_path: Path) -> None:
    (tmp_path / "event.json").write_text('{"from": "file"}')
    done = run_cli(server, "invoke", fn, f"@{tmp_path / 'event.json'}", home=tmp_path)
    assert done.code == 0, done.stderr
    assert answer(done.stdout) == {"event": {"from": "file"}, "version": "$LATEST"}


def test_no_payload_is_an_empty_object(server: ServerProcess, fn: str, tmp_path: Path) -> None:
    done = run_cli(server, "invoke", fn, home=tmp_path)
    assert done.code == 0, done.stderr
    assert answer(done.stdout) == {"event": {}, "version": "$LATEST"}


def test_qualifier(server: ServerProcess, fn: str, tmp_path: Path) -> None:
    done = run_cli(server, "invoke", fn, "{}", "--qualifier", "1", home=tmp_path)
    assert done.code == 0, done.stderr
    assert answer(done.stdout) == {"event": {}, "version": "1"}


def test_function_error_prints_the_error_and_fails(
    server: ServerProcess, fn: str, tmp_path: Path
) -> None:
    done = run_cli(server, "invoke", fn, '{"fail": true}', home=tmp_path)
    assert done.code == 1
    assert done.stdout == ""
    error = json.loads(done.stderr)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "asked to fail"


def test_log_tail_goes_to_stderr(server: ServerProcess, fn: str, tmp_path: Path) -> None:
    done = run_cli(server, "invoke", fn, '{"tail": 1}', "--log", home=tmp_path)
    assert done.code == 0, done.stderr
    assert answer(done.stdout) == {"event": {"tail": 1}, "version": "$LATEST"}
    lines = done.stderr.splitlines()
    assert any(line.startswith("START RequestId: ") for line in lines), done.stderr
    assert "got {'tail': 1}" in lines
    assert any(line.startswith("REPORT RequestId: ") for line in lines)


def test_invalid_json_is_a_usage_error(server: ServerProcess, fn: str, tmp_path: Path) -> None:
    done = run_cli(server, "invoke", fn, "{not json", home=tmp_path)
    assert done.code == 2
    assert done.stderr.startswith("usage: lambent invoke")
    assert "PAYLOAD is not valid JSON" in done.stderr


def test_missing_payload_file_is_a_usage_error(
    server: ServerProcess, fn: str, tmp_path: Path
) -> None:
    done = run_cli(server, "invoke", fn, "@/nonexistent/event.json", home=tmp_path)
    assert done.code == 2
    assert "cannot read payload file /nonexistent/event.json" in done.stderr


def test_unknown_function(server: ServerProcess, tmp_path: Path) -> None:
    done = run_cli(server, "invoke", "cli-no-such-function", "{}", home=tmp_path)
    assert done.code == 1
    assert done.stderr.startswith(
        "lambent: ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:"
    )
    # Invoke names the qualifier it looked for, as AWS does (`:$LATEST` when none is given).
    assert done.stderr.rstrip().endswith(":function:cli-no-such-function:$LATEST")
