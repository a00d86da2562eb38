"""STS AssumeRole: session keys SigV4 accepts, with the identity of the assumed role."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import LAMBDA_TRUST, REPO, ServerProcess


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def _session(server: ServerProcess, service: str, creds: dict[str, Any]) -> Any:
    return server.client(
        service,
        keys=(creds["AccessKeyId"], creds["SecretAccessKey"]),
        session_token=creds["SessionToken"],
    )


def test_assume_role_issues_working_session_keys(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    sts: Any = server.client("sts")
    account = sts.get_caller_identity()["Account"]
    role = iam.create_role(
        RoleName="worker", AssumeRolePolicyDocument=LAMBDA_TRUST, MaxSessionDuration=7200
    )["Role"]
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="job-1", DurationSeconds=7200)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    user = out["AssumedRoleUser"]
    assert user["AssumedRoleId"] == f"{role['RoleId']}:job-1"
    assert user["Arn"] == f"arn:aws:sts::{account}:assumed-role/worker/job-1"
    lifetime = creds["Expiration"].timestamp() - role["CreateDate"].timestamp()
    assert 7100 < lifetime < 7300

    ident = _session(server, "sts", creds).get_caller_identity()
    assert ident == {
        "UserId": user["AssumedRoleId"],
        "Account": account,
        "Arn": user["Arn"],
        "ResponseMetadata": ident["ResponseMetadata"],
    }
    assert _session(server, "iam", creds).get_role(RoleName="worker")["Role"]["RoleName"]

    forged = dict(creds, SessionToken=creds["SessionToken"][:-4] + "AAAA")
    with pytest.raises(ClientError) as err:
        _session(server, "sts", forged).get_caller_identity()
    assert _code(err) == "InvalidClientTokenId"
    no_token = server.client("sts", keys=(creds["AccessKeyId"], creds["SecretAccessKey"]))
    with pytest.raises(ClientError) as err:
        no_token.get_caller_identity()
    assert _code(err) == "InvalidClientTokenId"


def test_assume_role_refusals(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    sts: Any = server.client("sts")
    account = sts.get_caller_identity()["Account"]
    role = iam.create_role(RoleName="short", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]

    missing = f"arn:aws:iam::{account}:role/does-not-exist"
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=missing, RoleSessionName="s1")
    assert _code(err) == "AccessDenied"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert f"sts:AssumeRole on resource: {missing}" in err.value.response["Error"]["Message"]
    wrong_path = f"arn:aws:iam::{account}:role/other/short"
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=wrong_path, RoleSessionName="s1")
    assert _code(err) == "AccessDenied"

    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200)
    assert _code(err) == "ValidationError"
    assert "MaxSessionDuration" in err.value.response["Error"]["Message"]

    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    chained = _session(server, "sts", creds)
    iam.update_role(RoleName="short", MaxSessionDuration=7200)
    with pytest.raises(ClientError) as err:
        chained.assume_role(RoleArn=role["Arn"], RoleSessionName="s2", DurationSeconds=7200)
    assert "role chaining" in err.value.response["Error"]["Message"]
    again = chained.assume_role(RoleArn=role["Arn"], RoleSessionName="s2")
    assert again["AssumedRoleUser"]["Arn"].endswith(":assumed-role/short/s2")


def test_get_session_token(server: ServerProcess) -> None:
    sts: Any = server.client("sts")
    me = sts.get_caller_identity()
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    ident = _session(server, "sts", creds).get_caller_identity()
    assert ident["Arn"] == me["Arn"] and ident["Account"] == me["Account"]


def test_aws_cli_v1_sts_and_iam(server: ServerProcess, tmp_path: Path) -> None:
    key, secret = server.credentials()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    aws = [str(REPO / ".venv/bin/aws"), "--endpoint-url", server.endpoint, "--output", "json"]

    def run(*args: str) -> Any:
        proc = subprocess.run(
            [*aws, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    ident = run("sts", "get-caller-identity")
    assert ident["Arn"].endswith(":root")
    role = run(
        "iam",
        "create-role",
        "--role-name",
        "cli-role",
        "--assume-role-policy-document",
        LAMBDA_TRUST,
    )["Role"]
    run(
        "iam",
        "attach-role-policy",
        "--role-name",
        "cli-role",
        "--policy-arn",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    )
    got = run("iam", "get-role", "--role-name", "cli-role")["Role"]
    assert got["Arn"] == role["Arn"]
    assert got["AssumeRolePolicyDocument"] == json.loads(LAMBDA_TRUST)
    assumed = run("sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name", "cli")
    assert assumed["AssumedRoleUser"]["Arn"].endswith(":assumed-role/cli-role/cli")
