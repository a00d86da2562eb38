"""The Secrets Manager slice with boto3 against a real server (SQLite or, with
LAMBENT_TEST_DATABASE=postgres, PostgreSQL): versions and stages, AWS's ARNs and errors,
deletion with a recovery window, a function reading a secret with its execution role, and
no secret value in the clear in the data dir or the database."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.integration.test_accounts import new_account
from tests.support import ServerProcess, lambda_role

ARN = re.compile(r"arn:aws:secretsmanager:us-east-1:\d{12}:secret:(.+)-[A-Za-z0-9]{6}")
CLEAR = "SecretsManagerValue-4c1d9e7a2b"
CLEAR_BINARY = b"\x00BinarySecret-8e2f6a\xff"

APP = """
import boto3
from botocore.config import Config

FAST = Config(connect_timeout=3, read_timeout=20, retries={"max_attempts": 1})

def handler(event, context):
    sm = boto3.client("secretsmanager", config=FAST)
    got = sm.get_secret_value(SecretId=event["id"])
    return {"value": got["SecretString"], "arn": got["ARN"]}
"""


def code(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = err.value.response["Error"]
    return error["Code"], error["Message"]


def test_versions_move_awscurrent_and_awsprevious(server: ServerProcess) -> None:
    sm: Any = server.client("secretsmanager")
    made = sm.create_secret(Name="db/password", SecretString="one", Description="db")
    match = ARN.fullmatch(made["ARN"])
    assert match is not None and match.group(1) == "db/password"
    first = made["VersionId"]
    got = sm.get_secret_value(SecretId="db/password")
    assert (got["SecretString"], got["VersionStages"]) == ("one", ["AWSCURRENT"])
    second = sm.put_secret_value(SecretId=made["ARN"], SecretString="two")["VersionId"]
    third = sm.put_secret_value(SecretId="db/password", SecretString="three")
    assert third["VersionStages"] == ["AWSCURRENT"]
    stages = sm.describe_secret(SecretId="db/password")["VersionIdsToStages"]
    assert stages == {second: ["AWSPREVIOUS"], third["VersionId"]: ["AWSCURRENT"]}
    assert first not in stages
    previous = sm.get_secret_value(SecretId="db/password", VersionStage="AWSPREVIOUS")
    assert previous["SecretString"] == "two"
    by_id = sm.get_secret_value(SecretId=made["ARN"], VersionId=second)
    assert by_id["VersionStages"] == ["AWSPREVIOUS"]
    partial = made["ARN"][:-7]  # the ARN without AWS's random suffix
    assert sm.get_secret_value(SecretId=partial)["SecretString"] == "three"


def test_idempotent_tokens_and_binary_values(server: ServerProcess) -> None:
    sm: Any = server.client("secretsmanager")
    token = "11111111-2222-3333-4444-555555555555"
    one = sm.create_secret(Name="bin", SecretBinary=b"\x00\x01", ClientRequestToken=token)
    again = sm.create_secret(Name="bin", SecretBinary=b"\x00\x01", ClientRequestToken=token)
    assert one["ARN"] == again["ARN"] and again["VersionId"] == token
    assert sm.get_secret_value(SecretId="bin")["SecretBinary"] == b"\x00\x01"
    put = sm.put_secret_value(SecretId="bin", SecretBinary=b"\x00\x01", ClientRequestToken=token)
    assert put["VersionId"] == token  # a retry of the same version: nothing changes
    with pytest.raises(ClientError) as err:  # the same version with another value
        sm.put_secret_value(SecretId="bin", SecretString="x", ClientRequestToken=token)
    assert code(err)[0] == "ResourceExistsException"
    empty = sm.create_secret(Name="empty")
    assert "VersionId" not in empty
    with pytest.raises(ClientError) as err:
        sm.get_secret_value(SecretId="empty")
    assert code(err) == (
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    )


def test_aws_errors(server: ServerProcess) -> None:
    sm: Any = server.client("secretsmanager")
    with pytest.raises(ClientError) as err:
        sm.get_secret_value(SecretId="nope")
    assert code(err) == (
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
    )
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    sm.create_secret(Name="dup", SecretString="a")
    with pytest.raises(ClientError) as err:
        sm.create_secret(Name="dup", SecretString="b")
    assert code(err) == (
        "ResourceExistsException",
        "The operation failed because the secret dup already exists.",
    )
    with pytest.raises(ClientError) as err:
        sm.create_secret(Name="both", SecretString="a", SecretBinary=b"b")
    assert code(err)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        sm.create_secret(Name="bad name!", SecretString="a")
    assert code(err)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        sm.delete_secret(SecretId="dup", RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    assert code(err)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        sm.delete_secret(SecretId="dup", RecoveryWindowInDays=3)
    assert code(err)[0] == "InvalidParameterException"


def test_deletion_schedules_refuses_restores_and_forces(server: ServerProcess) -> None:
    sm: Any = server.client("secretsmanager")
    arn = sm.create_secret(Name="doomed", SecretString="x")["ARN"]
    gone = sm.delete_secret(SecretId="doomed", RecoveryWindowInDays=7)
    assert gone["ARN"] == arn
    scheduled = sm.describe_secret(SecretId=arn)["DeletedDate"]
    assert scheduled == gone["DeletionDate"]
    marked = "You can't perform this operation on the secret because it was marked for deletion."
    with pytest.raises(ClientError) as err:
        sm.get_secret_value(SecretId="doomed")
    assert code(err) == ("InvalidRequestException", marked)
    with pytest.raises(ClientError) as err:
        sm.put_secret_value(SecretId="doomed", SecretString="y")
    assert code(err) == ("InvalidRequestException", marked)
    with pytest.raises(ClientError) as err:
        sm.create_secret(Name="doomed", SecretString="again")
    assert code(err)[0] == "InvalidRequestException"
    with pytest.raises(ClientError) as err:
        sm.delete_secret(SecretId="doomed")
    assert code(err)[0] == "InvalidRequestException"
    names = [s["Name"] for s in sm.list_secrets()["SecretList"]]
    assert "doomed" not in names
    listed = sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]
    assert "doomed" in [s["Name"] for s in listed]
    sm.restore_secret(SecretId="doomed")
    assert sm.get_secret_value(SecretId="doomed")["SecretString"] == "x"
    sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientError) as err:
        sm.describe_secret(SecretId=arn)
    assert code(err)[0] == "ResourceNotFoundException"
    again = sm.create_secret(Name="doomed", SecretString="new")["ARN"]
    assert again != arn  # a new random suffix
    with pytest.raises(ClientError) as err:
        sm.get_secret_value(SecretId=arn)  # the old ARN names the old secret only
    assert code(err)[0] == "ResourceNotFoundException"


def test_list_pages_filters_and_sorts(server: ServerProcess) -> None:
    sm: Any = server.client("secretsmanager")
    for i in range(5):
        sm.create_secret(Name=f"paged/{i}", SecretString="v", Tags=[{"Key": "team", "Value": "a"}])
    filters = [{"Key": "name", "Values": ["paged/"]}]
    seen: list[str] = []
    kwargs: dict[str, Any] = {"Filters": filters, "MaxResults": 2, "SortBy": "name"}
    while True:
        page = sm.list_secrets(**kwargs)
        assert len(page["SecretList"]) <= 2
        seen += [s["Name"] for s in page["SecretList"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == [f"paged/{i}" for i in range(5)]
    desc = sm.list_secrets(Filters=filters, SortBy="name", SortOrder="desc")["SecretList"]
    assert [s["Name"] for s in desc] == [f"paged/{i}" for i in reversed(range(5))]
    entry = desc[0]
    assert entry["Tags"] == [{"Key": "team", "Value": "a"}]
    assert list(entry["SecretVersionsToStages"].values()) == [["AWSCURRENT"]]
    assert "SecretString" not in entry
    tagged = sm.list_secrets(Filters=[{"Key": "tag-key", "Values": ["team"]}])["SecretList"]
    assert len(tagged) == 5


def test_another_account_is_refused(server: ServerProcess) -> None:
    sm: Any = server.client("secretsmanager")
    arn = sm.create_secret(Name="mine", SecretString="x")["ARN"]
    _, keys = new_account(server)
    other: Any = server.client("secretsmanager", keys=keys)
    with pytest.raises(ClientError) as err:
        other.get_secret_value(SecretId=arn)
    assert code(err)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as err:
        other.get_secret_value(SecretId="mine")  # its own account has no such secret
    assert code(err)[0] == "ResourceNotFoundException"


def test_a_function_reads_a_secret_with_its_execution_role(server: ServerProcess) -> None:
    sm: Any = server.client("secretsmanager")
    arn = sm.create_secret(Name="fn/secret", SecretString="for the function")["ARN"]
    lam: Any = server.client("lambda")
    lam.create_function(
        FunctionName="reads-secret",
        Runtime="python3.12",
        Role=lambda_role(server, "reads-secret"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
        Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="reads-secret")
    answer = lam.invoke(FunctionName="reads-secret", Payload=json.dumps({"id": arn}).encode())
    assert "FunctionError" not in answer, answer["Payload"].read()
    assert json.loads(answer["Payload"].read()) == {"value": "for the function", "arn": arn}


def _raw_files(data: Path) -> list[Path]:
    out = []
    for root, _, files in os.walk(data):
        out += [Path(root, f) for f in files if not f.startswith("credentials")]
    return out


def _database_text(url: str) -> str:
    import psycopg

    parts = []
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
        for (table,) in tables:
            for (row,) in conn.execute(f'SELECT t::text FROM "{table}" t').fetchall():
                parts.append(row)
    return "\n".join(parts)


def test_no_secret_value_is_held_in_the_clear(server: ServerProcess) -> None:
    sm: Any = server.client("secretsmanager")
    sm.create_secret(Name="at-rest", SecretString=CLEAR)
    sm.put_secret_value(SecretId="at-rest", SecretBinary=CLEAR_BINARY)
    assert sm.get_secret_value(SecretId="at-rest")["SecretBinary"] == CLEAR_BINARY
    assert (
        sm.get_secret_value(SecretId="at-rest", VersionStage="AWSPREVIOUS")["SecretString"] == CLEAR
    )
    forms = [CLEAR.encode(), base64.b64encode(CLEAR.encode()), CLEAR_BINARY]
    forms.append(base64.b64encode(CLEAR_BINARY))
    found = [(p.name, f) for p in _raw_files(server.data_dir) for f in forms if f in p.read_bytes()]
    assert found == []
    if server.database_url is not None:
        text = _database_text(server.database_url)
        assert "at-rest" in text  # the secret's row is there, sealed
        assert [f for f in forms if f.decode("latin-1") in text] == []
