"""`lambent deploy` against a real server, checked through boto3 and the code download."""

from __future__ import annotations

import base64
import hashlib
import io
import random
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambent.cli.archive import build_zip
from tests.integration.cli_support import run_cli
from tests.support import ServerProcess, http_get

APP = """
import os
def handler(event, context):
    return {"version": "VERSION", "greeting": os.environ.get("GREETING")}
"""

# A custom runtime in the standard library: it only runs if the zip kept its execute bit.
BOOTSTRAP = """#!/usr/bin/python3.11
import http.client, json, os
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
conn = http.client.HTTPConnection(host, int(port))
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    r = conn.getresponse()
    event = json.loads(r.read() or b"null")
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    out = json.dumps({"custom": True, "event": event})
    conn.request("POST", f"/2018-06-01/runtime/invocation/{rid}/response", out)
    conn.getresponse().read()
"""


def write_app(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(APP.replace("VERSION", version))
    (folder / "lib").mkdir(exist_ok=True)
    (folder / "lib" / "data.txt").write_text("data\n")
    return folder


def fields(stdout: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in stdout.splitlines()[1:]:
        key, _, value = line.partition(" ")
        out[key] = value.strip()
    return out


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


def test_create_then_update_code_and_configuration(
    server: ServerProcess, lam: Any, tmp_path: Path
) -> None:
    folder = write_app(tmp_path / "fn", "one")
    created = run_cli(
        server,
        "deploy", str(folder), "--name", "cli-deployed",
        "--runtime", "python3.11", "--handler", "app.handler",
        home=tmp_path,
    )  # fmt: skip
    assert created.code == 0, created.stderr
    assert created.stdout.startswith("created cli-deployed (python3.11, app.handler)")
    info = fields(created.stdout)
    config = lam.get_function_configuration(FunctionName="cli-deployed")
    assert info["FunctionArn"] == config["FunctionArn"]
    assert info["CodeSha256"] == config["CodeSha256"]
    assert (
        info["CodeSha256"] == base64.b64encode(hashlib.sha256(build_zip(folder)).digest()).decode()
    )
    assert info["CodeSize"].split()[0] == str(config["CodeSize"])
    assert config["State"] == "Active"
    assert config["Role"].endswith(":role/lambent-default-execution-role")
    assert "Version" not in info

    write_app(folder, "two")
    updated = run_cli(
        server,
        "deploy", str(folder), "--name", "cli-deployed",
        "--memory", "256", "--timeout", "7", "--env", "GREETING=hej", "OTHER=x", "--publish",
        home=tmp_path,
    )  # fmt: skip
    assert updated.code == 0, updated.stderr
    assert updated.stdout.startswith("updated cli-deployed")
    info = fields(updated.stdout)
    config = lam.get_function_configuration(FunctionName="cli-deployed")
    assert config["MemorySize"] == 256
    assert config["Timeout"] == 7
    assert config["Environment"]["Variables"] == {"GREETING": "hej", "OTHER": "x"}
    assert config["LastUpdateStatus"] == "Successful"
    assert info["CodeSha256"] == config["CodeSha256"]
    # The published version carries both the new code and the new configuration.
    published = lam.get_function_configuration(
        FunctionName="cli-deployed", Qualifier=info["Version"]
    )
    assert published["CodeSha256"] == config["CodeSha256"]
    assert published["MemorySize"] == 256
    answer = lam.invoke(FunctionName="cli-deployed", Qualifier=info["Version"], Payload=b"{}")
    payload = answer["Payload"].read()
    assert payload == b'{"version": "two", "greeting": "hej"}', payload


def test_layers_memory_timeout_and_repeated_env_reach_the_configuration(
    server: ServerProcess, lam: Any, tmp_path: Path
) -> None:
    """`--layers`, `--memory`, `--timeout` and `--env KEY=VALUE` (repeatable) on create
    and on update, as GetFunctionConfiguration reports them and the function sees them."""
    layer_zip = io.BytesIO()
    with zipfile.ZipFile(layer_zip, "w") as zf:
        zf.writestr("python/cli_layer_mod.py", "WHO = 'layer'\n")
    arns = [
        lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip.getvalue()})[
            "LayerVersionArn"
        ]
        for name in ("cli-layer-a", "cli-layer-b")
    ]
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "app.py").write_text(
        "import os, cli_layer_mod\n"
        "def handler(event, context):\n"
        "    return [cli_layer_mod.WHO, os.environ.get('AA'), os.environ.get('BB')]\n"
    )
    created = run_cli(
        server,
        "deploy", str(folder), "--name", "cli-flags", "--runtime", "python3.12",
        "--handler", "app.handler", "--layers", arns[0], "--memory", "320",
        "--timeout", "11", "--env", "AA=1", "--env", "BB=two=2",
        home=tmp_path,
    )  # fmt: skip
    assert created.code == 0, created.stderr
    config = lam.get_function_configuration(FunctionName="cli-flags")
    assert [layer["Arn"] for layer in config["Layers"]] == [arns[0]]
    assert (config["MemorySize"], config["Timeout"]) == (320, 11)
    assert config["Environment"]["Variables"] == {"AA": "1", "BB": "two=2"}
    answer = lam.invoke(FunctionName="cli-flags", Payload=b"{}")["Payload"].read()
    assert answer == b'["layer", "1", "two=2"]'

    updated = run_cli(
        server,
        "deploy", str(folder), "--name", "cli-flags",
        "--layers", arns[1], "--layers", arns[0], "--memory", "512", "--timeout", "30",
        home=tmp_path,
    )  # fmt: skip
    assert updated.code == 0, updated.stderr
    config = lam.get_function_configuration(FunctionName="cli-flags")
    assert [layer["Arn"] for layer in config["Layers"]] == [arns[1], arns[0]]
    assert (config["MemorySize"], config["Timeout"]) == (512, 30)
    assert config["Environment"]["Variables"] == {"AA": "1", "BB": "two=2"}  # not given: kept

    cleared = run_cli(server, "deploy", str(folder), "--name", "cli-flags", "--layers",
                      home=tmp_path)  # fmt: skip
    assert cleared.code == 0, cleared.stderr
    assert "Layers" not in lam.get_function_configuration(FunctionName="cli-flags")


def test_default_role_is_created_once_with_the_lambda_trust_policy(
    server: ServerProcess, tmp_path: Path
) -> None:
    folder = write_app(tmp_path / "fn", "x")
    for name in ("cli-role-a", "cli-role-b"):
        done = run_cli(
            server, "deploy", str(folder), "--name", name,
            "--runtime", "python3.11", "--handler", "app.handler", home=tmp_path,
        )  # fmt: skip
        assert done.code == 0, done.stderr
    role = server.client("iam").get_role(RoleName="lambent-default-execution-role")["Role"]
    statement = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"


def test_executable_bootstrap_survives_the_zip(
    server: ServerProcess, lam: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "custom"
    folder.mkdir()
    (folder / "bootstrap").write_text(BOOTSTRAP)
    (folder / "bootstrap").chmod(0o700)
    (folder / "README").write_text("not executable\n")
    done = run_cli(
        server, "deploy", str(folder), "--name", "cli-custom",
        "--runtime", "provided.al2023", "--handler", "bootstrap", home=tmp_path,
    )  # fmt: skip
    assert done.code == 0, done.stderr

    location = lam.get_function(FunctionName="cli-custom")["Code"]["Location"]
    status, body = http_get(location)
    assert status == 200
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert zf.namelist() == ["README", "bootstrap"]
        assert stat.S_IMODE(zf.getinfo("bootstrap").external_attr >> 16) == 0o755
        assert stat.S_IMODE(zf.getinfo("README").external_attr >> 16) == 0o644

    called = run_cli(server, "invoke", "cli-custom", '{"n": 1}', home=tmp_path)
    assert called.code == 0, called.stderr
    assert called.stdout == '{"custom": true, "event": {"n": 1}}\n'


def test_progress_is_shown_when_asked_and_hidden_otherwise(
    server: ServerProcess, tmp_path: Path
) -> None:
    folder = write_app(tmp_path / "fn", "p")
    (folder / "blob.bin").write_bytes(random.Random(7).randbytes(1_500_000))  # incompressible
    base = ("deploy", str(folder), "--name", "cli-progress", "--runtime", "python3.11")
    quiet = run_cli(server, *base, "--handler", "app.handler", home=tmp_path)
    assert quiet.code == 0, quiet.stderr
    assert quiet.stderr == ""
    loud = run_cli(server, *base, "--handler", "app.handler", "--progress", home=tmp_path)
    assert loud.code == 0, loud.stderr
    uploads = [line for line in loud.stderr.splitlines() if line.startswith("uploading ")]
    assert uploads, loud.stderr
    # Without a TTY each update is its own line; the last one is the whole (base64) body.
    assert uploads[-1].endswith("(100%)")
    sent, _, total = uploads[-1].removeprefix("uploading ").partition(" / ")
    assert sent == total.split(" (")[0]
    assert sent.endswith(" MiB") and float(sent.split()[0]) >= 1.9


def test_a_new_function_needs_runtime_and_handler(server: ServerProcess, tmp_path: Path) -> None:
    folder = write_app(tmp_path / "fn", "x")
    done = run_cli(server, "deploy", str(folder), "--name", "cli-incomplete", home=tmp_path)
    assert done.code == 2
    assert done.stderr.startswith("usage: lambent deploy")
    assert "creating it needs --runtime and --handler" in done.stderr


def test_server_validation_errors_are_shown_as_aws_sends_them(
    server: ServerProcess, tmp_path: Path
) -> None:
    folder = write_app(tmp_path / "fn", "x")
    done = run_cli(
        server, "deploy", str(folder), "--name", "cli-bad-memory", "--runtime", "python3.11",
        "--handler", "app.handler", "--memory", "64", home=tmp_path,
    )  # fmt: skip
    assert done.code == 1
    assert done.stderr.startswith("lambent: ValidationException: 1 validation error detected")
    assert "memorySize" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_directory_is_a_usage_error(server: ServerProcess, tmp_path: Path) -> None:
    done = run_cli(
        server, "deploy", str(tmp_path / "nope"), "--name", "x",
        "--runtime", "python3.11", "--handler", "app.handler", home=tmp_path,
    )  # fmt: skip
    assert done.code == 2
    assert "is not a directory" in done.stderr
