"""IAM roles through real boto3 against a real `lambent serve` (SigV4)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support import LAMBDA_TRUST, ServerProcess


def unvalidated(server: ServerProcess, service: str) -> Any:
    """A client that sends what it is given, so the server's own validation answers."""
    key, secret = server.credentials()
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(parameter_validation=False, retries={"max_attempts": 0}),
    )


def account_of(server: ServerProcess) -> str:
    return str(server.client("sts").get_caller_identity()["Account"])


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_create_and_get_role(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    created = iam.create_role(
        RoleName="exec-role",
        Path="/service-role/",
        AssumeRolePolicyDocument=LAMBDA_TRUST,
        Description="runs functions",
        Tags=[{"Key": "team", "Value": "a"}],
    )["Role"]
    account = account_of(server)
    assert created["Arn"] == f"arn:aws:iam::{account}:role/service-role/exec-role"
    assert created["RoleId"].startswith("AROA") and len(created["RoleId"]) == 21
    assert created["AssumeRolePolicyDocument"] == json.loads(LAMBDA_TRUST)
    assert created["MaxSessionDuration"] == 3600

    got = iam.get_role(RoleName="exec-role")["Role"]
    assert got["RoleId"] == created["RoleId"]
    assert got["Path"] == "/service-role/"
    assert got["Description"] == "runs functions"
    assert got["Tags"] == [{"Key": "team", "Value": "a"}]
    assert got["CreateDate"] == created["CreateDate"]


def test_role_names_are_case_insensitive(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    iam.create_role(RoleName="CaseRole", AssumeRolePolicyDocument=LAMBDA_TRUST)
    with pytest.raises(ClientError) as err:
        iam.create_role(RoleName="caserole", AssumeRolePolicyDocument=LAMBDA_TRUST)
    assert _code(err) == "EntityAlreadyExists"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert iam.get_role(RoleName="CASEROLE")["Role"]["RoleName"] == "CaseRole"


def test_get_missing_role(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    with pytest.raises(ClientError) as err:
        iam.get_role(RoleName="nope")
    assert _code(err) == "NoSuchEntity"
    assert err.value.response["Error"]["Message"] == "The role with name nope cannot be found."
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_malformed_trust_policy_is_rejected(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    with pytest.raises(ClientError) as err:
        iam.create_role(RoleName="bad", AssumeRolePolicyDocument="some policy")
    assert _code(err) == "MalformedPolicyDocument"
    raw = unvalidated(server, "iam")
    with pytest.raises(ClientError) as err:
        raw.create_role(
            RoleName="bad", AssumeRolePolicyDocument=LAMBDA_TRUST, MaxSessionDuration=60
        )
    assert _code(err) == "ValidationError"
    assert "maxSessionDuration" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        iam.get_role(RoleName="bad")
    assert _code(err) == "NoSuchEntity"


def test_open_mode_accepts_placeholder_trust_policy(open_server: ServerProcess) -> None:
    iam: Any = open_server.client("iam")
    arn = iam.create_role(
        RoleName="my-role", AssumeRolePolicyDocument="some policy", Path="/my-path/"
    )["Role"]["Arn"]
    assert arn == "arn:aws:iam::123456789012:role/my-path/my-role"
    assert iam.get_role(RoleName="my-role")["Role"]["AssumeRolePolicyDocument"] == "some policy"


def test_caller_identity(server: ServerProcess, open_server: ServerProcess) -> None:
    ident = server.client("sts").get_caller_identity()
    assert ident["Account"].isdigit() and len(ident["Account"]) == 12
    assert ident["Arn"] == f"arn:aws:iam::{ident['Account']}:root"
    assert ident["UserId"] == ident["Account"]
    opened = open_server.client("sts").get_caller_identity()
    assert opened["Account"] == "123456789012"
    assert opened["Arn"] == "arn:aws:iam::123456789012:root"


def test_role_tags_and_instance_profiles(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=LAMBDA_TRUST)
    assert "Tags" not in iam.get_role(RoleName="tagged")["Role"]
    iam.tag_role(RoleName="tagged", Tags=[{"Key": "Team", "Value": "a"}, {"Key": "x", "Value": ""}])
    iam.tag_role(RoleName="tagged", Tags=[{"Key": "team", "Value": "b"}])  # keys ignore case
    assert iam.list_role_tags(RoleName="tagged")["Tags"] == [  # sorted by key, as AWS
        {"Key": "team", "Value": "b"},
        {"Key": "x", "Value": ""},
    ]
    iam.untag_role(RoleName="tagged", TagKeys=["X", "TEAM"])
    assert iam.list_role_tags(RoleName="tagged")["Tags"] == []
    assert "Tags" not in iam.get_role(RoleName="tagged")["Role"]
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    iam.tag_role(RoleName="tagged", Tags=too_many)
    with pytest.raises(ClientError) as err:
        iam.tag_role(RoleName="tagged", Tags=[{"Key": "one-more", "Value": "v"}])
    assert _code(err) == "LimitExceeded"
    profiles = iam.list_instance_profiles_for_role(RoleName="tagged")
    assert profiles["InstanceProfiles"] == []
    with pytest.raises(ClientError) as err:
        iam.list_instance_profiles_for_role(RoleName="untagged")
    assert _code(err) == "NoSuchEntity"
