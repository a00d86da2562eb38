"""Layers as AWS answers about them (issue 8 §2, AWS-BEHAVIOURS §7), through boto3 against
a real server: regional layers, a layer from another region, layer policy errors and the
enum messages of PublishLayerVersion."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role

CONTENT = python_zip("VALUE = 1\n", module="shared")


@pytest.fixture(scope="module")
def east(server: ServerProcess) -> Any:
    return server.client("lambda", region_name="us-east-1")


@pytest.fixture(scope="module")
def west(server: ServerProcess) -> Any:
    return server.client("lambda", region_name="us-west-2")


def failure(call: Any, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    resp = err.value.response
    return (
        int(resp["ResponseMetadata"]["HTTPStatusCode"]),
        str(resp["Error"]["Code"]),
        str(resp["Error"]["Message"]),
    )


def test_layers_are_regional(east: Any, west: Any) -> None:
    """The same name in two regions: two layers, each numbered from 1."""
    e1 = east.publish_layer_version(LayerName="regional", Content={"ZipFile": CONTENT})
    e2 = east.publish_layer_version(LayerName="regional", Content={"ZipFile": CONTENT})
    w1 = west.publish_layer_version(LayerName="regional", Content={"ZipFile": CONTENT})
    assert (e1["Version"], e2["Version"], w1["Version"]) == (1, 2, 1)
    assert ":us-west-2:" in w1["LayerVersionArn"] and ":us-east-1:" in e1["LayerVersionArn"]
    listed = west.list_layer_versions(LayerName="regional")["LayerVersions"]
    assert [v["LayerVersionArn"] for v in listed] == [w1["LayerVersionArn"]]
    assert [x["LayerArn"] for x in west.list_layers()["Layers"]] == [w1["LayerArn"]]
    west.delete_layer_version(LayerName="regional", VersionNumber=1)
    assert east.get_layer_version(LayerName="regional", VersionNumber=1)["Version"] == 1


def test_a_layer_from_another_region(server: ServerProcess, east: Any, west: Any) -> None:
    layer = west.publish_layer_version(LayerName="faraway", Content={"ZipFile": CONTENT})
    status, code, message = failure(
        east.create_function,
        FunctionName="needs-faraway",
        Runtime="python3.12",
        Role=lambda_role(server, "layer-rules"),
        Handler="app.handler",
        Code={"ZipFile": python_zip("def handler(e, c):\n    return 1\n")},
        Layers=[layer["LayerVersionArn"]],
    )
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message == (
        "Layers are not in the same region as the function. Layers are expected to be in "
        "region us-east-1."
    )


def test_layer_policy_errors(east: Any) -> None:
    layer = east.publish_layer_version(LayerName="guarded", Content={"ZipFile": CONTENT})
    arn, number = layer["LayerArn"], layer["Version"]
    for name, version in [("guarded", number + 5), ("never-published", 1)]:
        missing = f"{arn.rsplit(':', 1)[0]}:{name}:{version}"
        for call, extra in [
            (east.get_layer_version_policy, {}),
            (
                east.add_layer_version_permission,
                {"StatementId": "s", "Action": "lambda:GetLayerVersion", "Principal": "*"},
            ),
            (east.remove_layer_version_permission, {"StatementId": "s"}),
        ]:
            got = failure(call, LayerName=name, VersionNumber=version, **extra)
            assert got == (
                404,
                "ResourceNotFoundException",
                f"Layer version {missing} does not exist.",
            )
    assert failure(east.get_layer_version_policy, LayerName="guarded", VersionNumber=number) == (
        404,
        "ResourceNotFoundException",
        "No policy is associated with the given resource.",
    )
    east.add_layer_version_permission(
        LayerName="guarded",
        VersionNumber=number,
        StatementId="all",
        Action="lambda:GetLayerVersion",
        Principal="*",
    )
    status, code, message = failure(
        east.add_layer_version_permission,
        LayerName="guarded",
        VersionNumber=number,
        StatementId="again",
        Action="lambda:GetLayerVersion",
        Principal="*",
        RevisionId="not-the-revision",
    )
    assert (status, code) == (412, "PreconditionFailedException")
    assert message.endswith("Call the GetLayerPolicy API to retrieve the latest Revision Id")
    policy = json.loads(
        east.get_layer_version_policy(LayerName="guarded", VersionNumber=number)["Policy"]
    )
    assert [s["Sid"] for s in policy["Statement"]] == ["all"]


def test_enum_messages_of_publish_layer_version(east: Any) -> None:
    """compatibleRuntimes: the runtime enum without the list wrapper;
    compatibleArchitectures: with it."""
    model = east.meta.service_model
    runtimes = ", ".join(model.shape_for("Runtime").enum)
    status, code, message = failure(
        east.publish_layer_version,
        LayerName="enums",
        Content={"ZipFile": CONTENT},
        CompatibleRuntimes=["python2.0"],
    )
    assert (status, code) == (400, "ValidationException")
    assert message == (
        "1 validation error detected: Value '[python2.0]' at 'compatibleRuntimes' failed to "
        f"satisfy constraint: Member must satisfy enum value set: [{runtimes}]"
    )
    status, code, message = failure(
        east.publish_layer_version,
        LayerName="enums",
        Content={"ZipFile": CONTENT},
        CompatibleArchitectures=["sparc"],
    )
    assert (status, code) == (400, "ValidationException")
    assert message == (
        "1 validation error detected: Value '[sparc]' at 'compatibleArchitectures' failed to "
        "satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value "
        "set: [x86_64, arm64], Member must not be null]"
    )
