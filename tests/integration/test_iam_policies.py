"""Managed and inline policies on roles through real boto3 against `lambent serve`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import LAMBDA_TRUST, ServerProcess

POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_aws_managed_policy_attach_detach_and_delete_conflict(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=LAMBDA_TRUST)
    iam.attach_role_policy(RoleName="fn-role", PolicyArn=BASIC)
    iam.attach_role_policy(RoleName="fn-role", PolicyArn=BASIC)  # idempotent, as AWS
    attached = iam.list_attached_role_policies(RoleName="fn-role")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC}]

    policy = iam.get_policy(PolicyArn=BASIC)["Policy"]
    assert policy["AttachmentCount"] == 1 and policy["Path"] == "/service-role/"
    version = iam.get_policy_version(PolicyArn=BASIC, VersionId="v1")["PolicyVersion"]
    actions = version["Document"]["Statement"][0]["Action"]
    assert "logs:PutLogEvents" in actions

    with pytest.raises(ClientError) as err:
        iam.delete_role(RoleName="fn-role")
    assert _code(err) == "DeleteConflict"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    iam.detach_role_policy(RoleName="fn-role", PolicyArn=BASIC)
    with pytest.raises(ClientError) as err:
        iam.detach_role_policy(RoleName="fn-role", PolicyArn=BASIC)
    assert _code(err) == "NoSuchEntity"
    iam.delete_role(RoleName="fn-role")
    with pytest.raises(ClientError) as err:
        iam.get_role(RoleName="fn-role")
    assert _code(err) == "NoSuchEntity"


def test_unknown_and_wrong_path_policies_are_not_attachable(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    iam.create_role(RoleName="picky", AssumeRolePolicyDocument=LAMBDA_TRUST)
    for arn in (
        "arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/NoSuchPolicy",
    ):
        with pytest.raises(ClientError) as err:
            iam.attach_role_policy(RoleName="picky", PolicyArn=arn)
        assert _code(err) == "NoSuchEntity"
        assert err.value.response["Error"]["Message"] == (
            f"Policy {arn} does not exist or is not attachable."
        )
    with pytest.raises(ClientError) as err:
        iam.attach_role_policy(RoleName="picky", PolicyArn="not-an-arn-at-all-really")
    assert _code(err) == "InvalidInput"
    with pytest.raises(ClientError) as err:
        iam.attach_role_policy(RoleName="ghost", PolicyArn=BASIC)
    assert err.value.response["Error"]["Message"] == "The role with name ghost cannot be found."


def test_customer_managed_policy_lifecycle(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    created = iam.create_policy(
        PolicyName="read-things", Path="/app/", PolicyDocument=json.dumps(POLICY)
    )["Policy"]
    arn = created["Arn"]
    assert arn.endswith(":policy/app/read-things") and created["PolicyId"].startswith("ANPA")
    assert created["DefaultVersionId"] == "v1" and created["IsAttachable"] is True
    with pytest.raises(ClientError) as err:
        iam.create_policy(PolicyName="read-things", PolicyDocument=json.dumps(POLICY))
    assert _code(err) == "EntityAlreadyExists"

    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=LAMBDA_TRUST)
    iam.attach_role_policy(RoleName="reader", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    local = iam.list_policies(Scope="Local")["Policies"]
    assert [p["Arn"] for p in local] == [arn]
    with pytest.raises(ClientError) as err:
        iam.delete_policy(PolicyArn=arn)
    assert _code(err) == "DeleteConflict"
    iam.detach_role_policy(RoleName="reader", PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as err:
        iam.get_policy(PolicyArn=arn)
    assert _code(err) == "NoSuchEntity"


def test_malformed_policy_documents(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    iam.create_role(RoleName="strict", AssumeRolePolicyDocument=LAMBDA_TRUST)
    no_resource = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
    for doc in ("{not json", json.dumps(no_resource), json.dumps({"Version": "2001-01-01"})):
        with pytest.raises(ClientError) as err:
            iam.put_role_policy(RoleName="strict", PolicyName="p", PolicyDocument=doc)
        assert _code(err) == "MalformedPolicyDocument"
        with pytest.raises(ClientError) as err:
            iam.create_policy(PolicyName="p", PolicyDocument=doc)
        assert _code(err) == "MalformedPolicyDocument"


def test_inline_role_policies(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    iam.create_role(RoleName="inline", AssumeRolePolicyDocument=LAMBDA_TRUST)
    iam.put_role_policy(RoleName="inline", PolicyName="b", PolicyDocument=json.dumps(POLICY))
    iam.put_role_policy(RoleName="inline", PolicyName="a", PolicyDocument=json.dumps(POLICY))
    assert iam.list_role_policies(RoleName="inline")["PolicyNames"] == ["a", "b"]
    got = iam.get_role_policy(RoleName="inline", PolicyName="a")
    assert got["PolicyDocument"] == POLICY and got["RoleName"] == "inline"

    with pytest.raises(ClientError) as err:
        iam.delete_role(RoleName="inline")
    assert err.value.response["Error"]["Message"] == (
        "Cannot delete entity, must delete policies first."
    )
    big = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "x" * 6000}],
    }
    iam.put_role_policy(RoleName="inline", PolicyName="big1", PolicyDocument=json.dumps(big))
    with pytest.raises(ClientError) as err:
        iam.put_role_policy(RoleName="inline", PolicyName="big2", PolicyDocument=json.dumps(big))
    assert _code(err) == "LimitExceeded"

    for name in ("a", "b", "big1"):
        iam.delete_role_policy(RoleName="inline", PolicyName=name)
    with pytest.raises(ClientError) as err:
        iam.get_role_policy(RoleName="inline", PolicyName="a")
    assert err.value.response["Error"]["Message"] == "The role policy with name a cannot be found."
    iam.delete_role(RoleName="inline")


def test_list_roles_pagination_and_path_prefix(server: ServerProcess) -> None:
    iam: Any = server.client("iam")
    for i in range(7):
        iam.create_role(RoleName=f"page-{i}", Path="/paged/", AssumeRolePolicyDocument=LAMBDA_TRUST)
    first = iam.list_roles(PathPrefix="/paged/", MaxItems=3)
    assert first["IsTruncated"] is True and len(first["Roles"]) == 3
    names = [r["RoleName"] for r in first["Roles"]]
    marker = first["Marker"]
    while marker:
        page = iam.list_roles(PathPrefix="/paged/", MaxItems=3, Marker=marker)
        names += [r["RoleName"] for r in page["Roles"]]
        marker = page.get("Marker")
    assert names == [f"page-{i}" for i in range(7)]
    paginated = iam.get_paginator("list_roles").paginate(PathPrefix="/paged/", MaxItems=100)
    assert sum(len(p["Roles"]) for p in paginated) == 7
    everything = iam.list_roles()["Roles"]
    assert {f"page-{i}" for i in range(7)} <= {r["RoleName"] for r in everything}
    assert all("Tags" not in r for r in everything)
