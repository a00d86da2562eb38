"""The server as a new user meets it: first run, credentials, restarts, shutdown, bad input."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import LAMBDA_TRUST, REPO, ServerProcess, free_port, http_get, start_server


def aws(
    server: ServerProcess, *args: str, secret: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The aws CLI (v1 from the venv) with the credentials `lambent serve` printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(server.data_dir / "credentials")
    env["AWS_CONFIG_FILE"] = str(server.data_dir / "config")
    if secret is not None:
        key, _ = server.credentials()
        env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
    cli = str(Path(sys.executable).parent / "aws")
    return subprocess.run(
        [cli, "--endpoint-url", server.endpoint, *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_first_run_prints_where_the_credentials_are(server: ServerProcess) -> None:
    out = "\n".join(server.output)
    creds = server.data_dir / "credentials"
    assert str(creds) in out
    assert "ready" in out and server.endpoint in out
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    text = creds.read_text()
    assert text.startswith("[default]\naws_access_key_id = AKIA")


def test_aws_cli_works_with_the_printed_credentials(server: ServerProcess) -> None:
    done = aws(server, "lambda", "list-functions")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Functions"] == []


def test_aws_cli_with_a_wrong_secret_is_refused_as_aws_does(server: ServerProcess) -> None:
    done = aws(server, "lambda", "list-functions", secret="wrong" * 8)
    assert done.returncode != 0
    assert "InvalidSignatureException" in done.stderr
    assert "signature we calculated does not match" in done.stderr


def test_unknown_key_is_unrecognized(server: ServerProcess) -> None:
    lam = server.client("lambda", keys=("AKIAUNKNOWN000000000", "x"))
    with pytest.raises(ClientError) as err:
        lam.list_functions()
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_health(server: ServerProcess) -> None:
    assert http_get(f"{server.endpoint}/health")[0] == 200


def raw(
    server: ServerProcess, method: str, path: str, body: bytes, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """A signed request with whatever body we like (boto3 would refuse to send bad ones)."""
    from lambent.auth.sigv4 import sign_headers

    key, secret = server.credentials()
    signed = sign_headers(
        method=method,
        url_path=path,
        query="",
        headers={"host": f"127.0.0.1:{server.port}", **headers},
        body=body,
        access_key=key,
        secret=secret,
        region="us-east-1",
        service="lambda",
    )
    req = urllib.request.Request(f"{server.endpoint}{path}", data=body or None, method=method)
    for k, v in signed.items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "InvalidRequestContentException"),
        (b'{"FunctionName": 5, "Role": "x", "Code": {}}', "InvalidRequestContentException"),
        (b'{"MemorySize": "lots"}', "InvalidRequestContentException"),
        (b"{}", "ValidationException"),
    ],
)
def test_malformed_requests_get_aws_shaped_4xx(
    server: ServerProcess, body: bytes, code: str
) -> None:
    status, headers, payload = raw(
        server, "POST", "/2015-03-31/functions", body, **{"content-type": "application/json"}
    )
    assert 400 <= status < 500, (status, payload)
    assert headers.get("x-amzn-ErrorType") == code
    doc = json.loads(payload)
    # AWS's ValidationException carries only a message; the others say whose fault it is.
    assert doc.get("Type") == (None if code == "ValidationException" else "User")
    assert doc.get("message") or doc.get("Message")


def test_unknown_operation_is_named_never_an_html_404(server: ServerProcess) -> None:
    status, headers, payload = raw(server, "GET", "/2015-03-31/nothing-here", b"")
    assert status == 404
    assert headers.get("x-amzn-ErrorType") == "UnknownOperationException"
    assert json.loads(payload)["message"]


def test_validation_message_is_aws_format(server: ServerProcess) -> None:
    lam = server.client("lambda")
    with pytest.raises(ClientError) as err:
        lam.get_function_configuration(FunctionName="bad name!")
    error = err.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("1 validation error detected: Value 'bad name!' at ")


def test_restart_keeps_everything_and_sigterm_stops_gracefully(tmp_path: Path) -> None:
    first = start_server(tmp_path)
    key, _ = first.credentials()
    iam, lam = first.client("iam"), first.client("lambda")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    lam.create_function(
        FunctionName="kept",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip("def handler(e, c):\n    return 'still here'\n")},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="kept")
    lam.publish_version(FunctionName="kept")
    assert first.stop() == 0  # SIGTERM
    assert "lambent: stopped" in first.output
    second = start_server(tmp_path)
    try:
        assert second.credentials()[0] == key  # no new account on restart
        lam2 = second.client("lambda")
        assert [
            v["Version"] for v in lam2.list_versions_by_function(FunctionName="kept")["Versions"]
        ] == ["$LATEST", "1"]
        body = json.loads(lam2.invoke(FunctionName="kept", Qualifier="1")["Payload"].read())
        assert body == "still here"
    finally:
        second.stop()


def test_open_mode_refuses_a_public_host(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lambent",
            "serve",
            "--auth",
            "open",
            "--host",
            "0.0.0.0",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(REPO),
    )
    assert done.returncode != 0
    assert "refusing --auth open on non-loopback host" in done.stderr


def test_open_mode_maps_any_credentials_to_the_account(open_server: ServerProcess) -> None:
    sts: Any = open_server.client("sts", keys=("anything", "at-all"))
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    """No traceback, a non-zero exit, the port named; nothing is made, not even the data dir."""
    import socket

    data = tmp_path / "data"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        argv = [sys.executable, "-m", "lambent", "serve", "--sandbox", "process"]
        argv += ["--port", str(port), "--data-dir", str(data)]
        done = subprocess.run(
            argv, check=False, capture_output=True, text=True, cwd=REPO, timeout=60
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"lambent serve: port {port} on 127.0.0.1 is already in use "
        "(another server? choose another with --port)"
    ]
    assert done.stdout == ""
    assert not data.exists()


def test_the_start_up_heap_is_out_of_the_collectors_reach(server: ServerProcess) -> None:
    """What start-up built (service models, routes, modules) lives as long as the server; it
    is frozen once started, so a full collection never walks it and never stalls invokes
    for the tens of milliseconds that walk takes (issue 8 §1.6). The stats page shows it."""
    status, body = http_get(f"{server.endpoint}/_lambent/stats")
    assert status == 200
    view = json.loads(body)["gc"]
    assert view["frozen_objects"] > 10_000
    assert len(view["collections"]) == 3
