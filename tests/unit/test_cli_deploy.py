"""What `lambent deploy` sends: environment flags, the create request, configuration diffs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lambent.cli.deploy import (
    DeploySpec,
    configuration_changes,
    create_request,
    local_code_sha256,
    parse_env,
    report,
)
from lambent.cli.errors import UsageError

CURRENT = {
    "Runtime": "python3.11",
    "Handler": "app.handler",
    "MemorySize": 128,
    "Timeout": 3,
    "Role": "arn:aws:iam::123456789012:role/r",
    "Environment": {"Variables": {"AA": "1"}},
}


def spec(**kw: object) -> DeploySpec:
    base: dict[str, object] = {
        "directory": Path("."),
        "name": "fn",
        "runtime": None,
        "handler": None,
    }
    base.update(kw)
    return DeploySpec(**base)  # type: ignore[arg-type]


def test_parse_env() -> None:
    assert parse_env(None) is None
    assert parse_env([]) == {}
    assert parse_env(["AA=1", "BB=x=y", "CC="]) == {"AA": "1", "BB": "x=y", "CC": ""}
    for bad in ("AA", "=1"):
        with pytest.raises(UsageError, match="KEY=VALUE"):
            parse_env([bad])


def test_nothing_changes_when_nothing_differs() -> None:
    assert configuration_changes(CURRENT, spec()) == {}
    same = spec(runtime="python3.11", handler="app.handler", memory=128, environment={"AA": "1"})
    assert configuration_changes(CURRENT, same) == {}


def test_only_differing_fields_are_sent() -> None:
    changed = spec(runtime="python3.12", handler="app.handler", timeout=9, role="arn:x")
    assert configuration_changes(CURRENT, changed) == {
        "Runtime": "python3.12",
        "Timeout": 9,
        "Role": "arn:x",
    }


def test_env_replaces_the_whole_map_and_empty_clears_it() -> None:
    assert configuration_changes(CURRENT, spec(environment={"BB": "2"})) == {
        "Environment": {"Variables": {"BB": "2"}}
    }
    assert configuration_changes(CURRENT, spec(environment={})) == {
        "Environment": {"Variables": {}}
    }
    assert configuration_changes({}, spec(environment={})) == {}


def test_create_request() -> None:
    full = spec(runtime="python3.11", handler="app.h", memory=256, environment={"AA": "1"})
    assert create_request(full, "arn:role") == {
        "FunctionName": "fn",
        "Runtime": "python3.11",
        "Handler": "app.h",
        "Role": "arn:role",
        "Publish": False,
        "MemorySize": 256,
        "Environment": {"Variables": {"AA": "1"}},
    }
    with pytest.raises(UsageError, match="needs --runtime and --handler"):
        create_request(spec(), "arn:role")
    with pytest.raises(UsageError, match=r"needs --handler$"):
        create_request(spec(runtime="python3.11"), "arn:role")


def test_report_prints_the_version_only_when_published() -> None:
    final = {"FunctionArn": "arn:fn", "CodeSha256": "abc=", "CodeSize": 2048, "Runtime": "r"}
    out = io.StringIO()
    report(out, "created", "fn", final, {"Version": "$LATEST"}, b"zip")
    assert out.getvalue().splitlines()[1:] == [
        "FunctionArn  arn:fn",
        "CodeSha256   abc=",
        "CodeSize     2048 (2.0 KiB)",
    ]
    out = io.StringIO()
    report(out, "updated", "fn", final, {"Version": "4"}, b"zip")
    assert out.getvalue().splitlines()[-1] == "Version      4"


def test_local_code_sha256_is_lambdas_format() -> None:
    assert local_code_sha256(b"") == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
