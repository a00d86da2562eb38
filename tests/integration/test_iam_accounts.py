"""Account isolation: each account sees only its own roles, users, policies and keys."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import LAMBDA_TRUST, ServerProcess, create_account

POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)


@pytest.fixture(scope="module")
def second_account(server: ServerProcess) -> Iterator[tuple[str, str, str]]:
    """A second account made the way an operator would, in the running server's store."""
    account, cred = create_account(server.data_dir)
    yield account, cred.access_key, cred.secret


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_entities_are_invisible_across_accounts(
    server: ServerProcess, second_account: tuple[str, str, str]
) -> None:
    account_b, key_b, secret_b = second_account
    iam_a: Any = server.client("iam")
    iam_b: Any = server.client("iam", keys=(key_b, secret_b))
    assert server.client("sts", keys=(key_b, secret_b)).get_caller_identity()["Account"] == (
        account_b
    )

    iam_a.create_role(RoleName="shared-name", AssumeRolePolicyDocument=LAMBDA_TRUST)
    iam_a.create_role(RoleName="only-a", AssumeRolePolicyDocument=LAMBDA_TRUST)
    iam_b.create_role(RoleName="shared-name", AssumeRolePolicyDocument=LAMBDA_TRUST)  # no clash
    iam_a.create_user(UserName="user-a")
    policy_a = iam_a.create_policy(PolicyName="pol", PolicyDocument=POLICY)["Policy"]["Arn"]
    key_a = iam_a.create_access_key(UserName="user-a")["AccessKey"]["AccessKeyId"]

    assert [r["RoleName"] for r in iam_b.list_roles()["Roles"]] == ["shared-name"]
    assert iam_b.list_users()["Users"] == []
    assert iam_b.list_policies(Scope="Local")["Policies"] == []
    b_keys = [k["AccessKeyId"] for k in iam_b.list_access_keys()["AccessKeyMetadata"]]
    assert b_keys == [key_b]

    calls: list[Callable[[], Any]] = [
        lambda: iam_b.get_role(RoleName="only-a"),
        lambda: iam_b.get_user(UserName="user-a"),
        lambda: iam_b.get_policy(PolicyArn=policy_a),
        lambda: iam_b.attach_role_policy(RoleName="shared-name", PolicyArn=policy_a),
        lambda: iam_b.list_access_keys(UserName="user-a"),
        lambda: iam_b.delete_access_key(UserName="user-a", AccessKeyId=key_a),
    ]
    for call in calls:
        with pytest.raises(ClientError) as err:
            call()
        assert _code(err) == "NoSuchEntity"
    # A's key survives B's attempt to delete it.
    assert [
        k["AccessKeyId"] for k in iam_a.list_access_keys(UserName="user-a")["AccessKeyMetadata"]
    ] == [key_a]
    with pytest.raises(ClientError) as err:
        iam_b.delete_access_key(AccessKeyId=key_a)
    assert _code(err) == "NoSuchEntity"


def test_cross_account_assume_role_follows_the_trust_policy(
    server: ServerProcess, second_account: tuple[str, str, str]
) -> None:
    account_b, key_b, secret_b = second_account
    iam_a: Any = server.client("iam")
    sts_b: Any = server.client("sts", keys=(key_b, secret_b))
    closed = iam_a.create_role(RoleName="closed", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]
    with pytest.raises(ClientError) as err:
        sts_b.assume_role(RoleArn=closed["Arn"], RoleSessionName="xx")
    assert _code(err) == "AccessDenied"

    trust_b = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_b}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    opened = iam_a.create_role(RoleName="for-b", AssumeRolePolicyDocument=trust_b)["Role"]
    out = sts_b.assume_role(RoleArn=opened["Arn"], RoleSessionName="visit")
    account_a = opened["Arn"].split(":")[4]
    assert out["AssumedRoleUser"]["Arn"] == (f"arn:aws:sts::{account_a}:assumed-role/for-b/visit")
    c = out["Credentials"]
    visitor: Any = server.client(
        "iam", keys=(c["AccessKeyId"], c["SecretAccessKey"]), session_token=c["SessionToken"]
    )
    assert visitor.get_role(RoleName="closed")["Role"]["Arn"] == closed["Arn"]
