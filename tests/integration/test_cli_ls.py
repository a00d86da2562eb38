"""`lambent ls` against a real server: the table, every page of ListFunctions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.functions import python_zip
from tests.integration.cli_support import run_cli
from tests.support import ServerProcess, lambda_role

NAMES = ("ls-alpha", "ls-bravo", "ls-charlie", "ls-delta", "ls-echo")


@pytest.fixture(scope="module")
def functions(server: ServerProcess) -> tuple[str, ...]:
    role = lambda_role(server, "ls-role")
    lam: Any = server.client("lambda")
    for i, name in enumerate(NAMES):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12" if i % 2 else "python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": python_zip("def handler(event, context):\n    return event\n")},
            MemorySize=128 + 64 * i,
            Timeout=3 + i,
        )
    return NAMES


def rows(stdout: str) -> list[list[str]]:
    lines = stdout.splitlines()
    assert lines[0].split() == ["NAME", "RUNTIME", "MEMORY", "TIMEOUT", "LAST", "MODIFIED"]
    return [line.split() for line in lines[1:]]


def test_every_page_is_listed(
    server: ServerProcess, functions: tuple[str, ...], tmp_path: Path
) -> None:
    for page_size in ("1", "2", "50"):
        done = run_cli(server, "ls", "--page-size", page_size, home=tmp_path)
        assert done.code == 0, done.stderr
        assert [r[0] for r in rows(done.stdout)] == list(functions), page_size


def test_columns(server: ServerProcess, functions: tuple[str, ...], tmp_path: Path) -> None:
    done = run_cli(server, "ls", home=tmp_path)
    assert done.code == 0, done.stderr
    table = {r[0]: r for r in rows(done.stdout)}
    _, runtime, memory, mb, timeout, s, day, clock = table["ls-bravo"]
    assert (runtime, memory, mb, timeout, s) == ("python3.12", "192", "MB", "4", "s")
    assert len(day) == 10 and day[4] == "-" and len(clock) == 8


def test_page_size_must_be_positive(server: ServerProcess, tmp_path: Path) -> None:
    done = run_cli(server, "ls", "--page-size", "0", home=tmp_path)
    assert done.code == 2
    assert "--page-size: must be at least 1" in done.stderr


def test_an_empty_account_says_so(open_server: ServerProcess, tmp_path: Path) -> None:
    done = run_cli(
        None, "ls", "--endpoint-url", open_server.endpoint, "--region", "eu-west-1",
        home=tmp_path, env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )  # fmt: skip
    assert done.code == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr == "no functions in eu-west-1\n"
