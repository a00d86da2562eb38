"""IAM users and access keys: keys CreateAccessKey returns sign requests SigV4 accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import ServerProcess

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
    }
)


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_user_lifecycle(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    user = iam.create_user(UserName="alice", Path="/devs/")["User"]
    assert user["UserId"].startswith("AIDA") and user["Arn"].endswith(":user/devs/alice")
    assert iam.get_user(UserName="alice")["User"]["UserId"] == user["UserId"]
    with pytest.raises(ClientError) as err:
        iam.create_user(UserName="ALICE")
    assert _code(err) == "EntityAlreadyExists"
    iam.create_user(UserName="bob")
    listed = [u["UserName"] for u in iam.list_users()["Users"]]
    assert listed == ["alice", "bob"]
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/devs/")["Users"]] == ["alice"]

    iam.put_user_policy(UserName="bob", PolicyName="logs", PolicyDocument=POLICY)
    with pytest.raises(ClientError) as err:
        iam.delete_user(UserName="bob")
    assert _code(err) == "DeleteConflict"
    iam.delete_user_policy(UserName="bob", PolicyName="logs")
    iam.delete_user(UserName="bob")
    with pytest.raises(ClientError) as err:
        iam.get_user(UserName="bob")
    assert err.value.response["Error"]["Message"] == "The user with name bob cannot be found."


def test_access_keys_authenticate_until_deleted(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    user = iam.create_user(UserName="keyed")["User"]
    key = iam.create_access_key(UserName="keyed")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    assert key["Status"] == "Active" and key["UserName"] == "keyed"

    as_user: Any = server.client("sts", keys=(key["AccessKeyId"], key["SecretAccessKey"]))
    ident = as_user.get_caller_identity()
    assert ident["Arn"] == user["Arn"] and ident["UserId"] == user["UserId"]

    # Without UserName, an IAM user acts on itself.
    own: Any = server.client("iam", keys=(key["AccessKeyId"], key["SecretAccessKey"]))
    assert own.get_user()["User"]["UserName"] == "keyed"
    listed = own.list_access_keys()["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [key["AccessKeyId"]]

    second = iam.create_access_key(UserName="keyed")["AccessKey"]
    with pytest.raises(ClientError) as err:
        iam.create_access_key(UserName="keyed")
    assert _code(err) == "LimitExceeded"

    iam.update_access_key(UserName="keyed", AccessKeyId=second["AccessKeyId"], Status="Inactive")
    inactive: Any = server.client("sts", keys=(second["AccessKeyId"], second["SecretAccessKey"]))
    with pytest.raises(ClientError) as err:
        inactive.get_caller_identity()
    assert _code(err) == "InvalidClientTokenId"
    statuses = {
        k["AccessKeyId"]: k["Status"]
        for k in iam.list_access_keys(UserName="keyed")["AccessKeyMetadata"]
    }
    assert statuses == {key["AccessKeyId"]: "Active", second["AccessKeyId"]: "Inactive"}

    with pytest.raises(ClientError) as err:
        iam.delete_user(UserName="keyed")
    assert err.value.response["Error"]["Message"] == (
        "Cannot delete entity, must delete access keys first."
    )
    iam.delete_access_key(UserName="keyed", AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as err:
        as_user.get_caller_identity()
    assert _code(err) == "InvalidClientTokenId"
    with pytest.raises(ClientError) as err:
        iam.delete_access_key(UserName="keyed", AccessKeyId=key["AccessKeyId"])
    assert _code(err) == "NoSuchEntity"
    iam.delete_access_key(UserName="keyed", AccessKeyId=second["AccessKeyId"])
    iam.delete_user(UserName="keyed")


def test_root_lists_its_own_keys(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    root_key, _ = server.credentials()
    listed = iam.list_access_keys()["AccessKeyMetadata"]
    assert root_key in [k["AccessKeyId"] for k in listed]
    assert iam.get_user()["User"]["Arn"].endswith(":root")


def test_session_credentials_must_name_the_user(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    role = iam.create_role(RoleName="keys-role", AssumeRolePolicyDocument=trust)["Role"]
    creds = server.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    c = creds["Credentials"]
    session: Any = server.client(
        "iam", keys=(c["AccessKeyId"], c["SecretAccessKey"]), session_token=c["SessionToken"]
    )
    with pytest.raises(ClientError) as err:
        session.list_access_keys()
    assert _code(err) == "ValidationError"
