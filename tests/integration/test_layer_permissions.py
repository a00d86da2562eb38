"""Layer version permissions, as AWS shapes them."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import ServerProcess


def layer_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("python/shared.py", "VALUE = 42\n")
    return buf.getvalue()


def test_add_get_remove_layer_version_permission(server: ServerProcess) -> None:
    lam: Any = server.client("lambda")
    published = lam.publish_layer_version(LayerName="shared", Content={"ZipFile": layer_zip()})
    number, arn = published["Version"], published["LayerVersionArn"]
    with pytest.raises(ClientError) as none_yet:
        lam.get_layer_version_policy(LayerName="shared", VersionNumber=number)
    assert none_yet.value.response["Error"]["Code"] == "ResourceNotFoundException"

    added = lam.add_layer_version_permission(
        LayerName="shared",
        VersionNumber=number,
        StatementId="xaccount",
        Action="lambda:GetLayerVersion",
        Principal="432143214321",
    )
    assert json.loads(added["Statement"]) == {
        "Sid": "xaccount",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::432143214321:root"},
        "Action": "lambda:GetLayerVersion",
        "Resource": arn,
    }
    with pytest.raises(ClientError) as dup:
        lam.add_layer_version_permission(
            LayerName="shared",
            VersionNumber=number,
            StatementId="xaccount",
            Action="lambda:GetLayerVersion",
            Principal="*",
        )
    assert dup.value.response["Error"]["Code"] == "ResourceConflictException"
    lam.add_layer_version_permission(
        LayerName="shared",
        VersionNumber=number,
        StatementId="org",
        Action="lambda:GetLayerVersion",
        Principal="*",
        OrganizationId="o-abcdefghij",
    )
    policy = lam.get_layer_version_policy(LayerName="shared", VersionNumber=number)
    doc = json.loads(policy["Policy"])
    assert doc["Version"] == "2012-10-17" and [s["Sid"] for s in doc["Statement"]] == [
        "xaccount",
        "org",
    ]
    assert doc["Statement"][1]["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}
    }

    with pytest.raises(ClientError) as stale:
        lam.remove_layer_version_permission(
            LayerName="shared", VersionNumber=number, StatementId="org", RevisionId="nope"
        )
    assert stale.value.response["Error"]["Code"] == "PreconditionFailedException"
    resp = lam.remove_layer_version_permission(
        LayerName="shared", VersionNumber=number, StatementId="org"
    )
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    lam.remove_layer_version_permission(
        LayerName="shared", VersionNumber=number, StatementId="xaccount"
    )
    with pytest.raises(ClientError) as gone:
        lam.get_layer_version_policy(LayerName="shared", VersionNumber=number)
    assert gone.value.response["Error"]["Message"] == (
        "No policy is associated with the given resource."
    )
    with pytest.raises(ClientError) as missing:
        lam.remove_layer_version_permission(
            LayerName="shared", VersionNumber=number, StatementId="xaccount"
        )
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
