"""Layers, permissions, tags, concurrency and async settings through boto3 (SigV4)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.integration.test_lambda_functions import WAIT, create, error_of, make_zip
from tests.support import ServerProcess, http_get, lambda_role


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "runner")


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


def test_layers(lam: Any, role: str) -> None:
    content = make_zip("VALUE = 1\n")
    first = lam.publish_layer_version(
        LayerName="deps",
        Content={"ZipFile": content},
        CompatibleRuntimes=["python3.12"],
        LicenseInfo="MIT",
    )
    assert first["Version"] == 1
    assert first["LayerVersionArn"].endswith(":layer:deps:1")
    assert first["Content"]["CodeSize"] == len(content)
    assert http_get(first["Content"]["Location"]) == (200, content)
    second = lam.publish_layer_version(
        LayerName="deps", Content={"ZipFile": content}, CompatibleRuntimes=["nodejs20.x"]
    )
    assert second["Version"] == 2
    assert lam.get_layer_version_by_arn(Arn=second["LayerVersionArn"])["Version"] == 2
    listed = lam.list_layer_versions(LayerName="deps")["LayerVersions"]
    assert [v["Version"] for v in listed] == [2, 1]
    py = lam.list_layers(CompatibleRuntime="python3.12")["Layers"]
    assert [(x["LayerName"], x["LatestMatchingVersion"]["Version"]) for x in py] == [("deps", 1)]

    fn = create(lam, role, "layered", Layers=[first["LayerVersionArn"]])
    assert fn["Layers"] == [{"Arn": first["LayerVersionArn"], "CodeSize": len(content)}]
    with pytest.raises(ClientError) as exc:
        create(lam, role, "two", Layers=[first["LayerVersionArn"], second["LayerVersionArn"]])
    assert "Two different versions of the same layer" in error_of(exc)[1]
    missing = first["LayerVersionArn"][:-1] + "9"
    with pytest.raises(ClientError) as exc:
        create(lam, role, "missing", Layers=[missing])
    assert error_of(exc)[1] == f"Layer version {missing} does not exist."

    lam.delete_layer_version(LayerName="deps", VersionNumber=1)
    lam.delete_layer_version(LayerName="deps", VersionNumber=1)  # idempotent
    with pytest.raises(ClientError) as exc:
        lam.get_layer_version(LayerName="deps", VersionNumber=1)
    assert error_of(exc) == (
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
        404,
    )


def test_permissions(lam: Any, role: str) -> None:
    fn = create(lam, role, "perm", Publish=True)
    arn = fn["FunctionArn"]
    out = lam.add_permission(
        FunctionName="perm",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bucket",
        SourceAccount=arn.split(":")[4],
    )
    stmt = json.loads(out["Statement"])
    assert stmt["Principal"] == {"Service": "s3.amazonaws.com"}
    assert stmt["Resource"] == arn
    assert stmt["Condition"]["ArnLike"] == {"AWS:SourceArn": "arn:aws:s3:::bucket"}
    with pytest.raises(ClientError) as exc:
        lam.add_permission(FunctionName="perm", StatementId="s3", Action="lambda:*", Principal="*")
    assert error_of(exc)[0] == "ResourceConflictException"
    policy = lam.get_policy(FunctionName="perm")
    doc = json.loads(policy["Policy"])
    assert doc["Version"] == "2012-10-17"
    assert [s["Sid"] for s in doc["Statement"]] == ["s3"]
    with pytest.raises(ClientError) as exc:
        lam.add_permission(
            FunctionName="perm",
            StatementId="x",
            Action="lambda:*",
            Principal="*",
            RevisionId="stale",
        )
    assert error_of(exc)[0] == "PreconditionFailedException"
    lam.add_permission(
        FunctionName="perm",
        StatementId="v1",
        Action="lambda:InvokeFunction",
        Principal="123456789012",
        Qualifier="1",
    )
    v1 = json.loads(lam.get_policy(FunctionName="perm", Qualifier="1")["Policy"])
    assert v1["Statement"][0]["Resource"] == arn + ":1"
    lam.remove_permission(FunctionName="perm", StatementId="s3")
    with pytest.raises(ClientError) as exc:
        lam.get_policy(FunctionName="perm")
    assert error_of(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        lam.remove_permission(FunctionName="perm", StatementId="s3")
    assert error_of(exc)[1] == "No policy is associated with the given resource."


def test_tags(lam: Any, role: str) -> None:
    arn = create(lam, role, "tagged", Tags={"a": "1"})["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"b": "2"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"a": "1", "b": "2"}
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}
    with pytest.raises(ClientError) as exc:
        lam.tag_resource(Resource=arn + ":1", Tags={"c": "3"})
    assert error_of(exc)[0] == "InvalidParameterValueException"


def test_concurrency(lam: Any, role: str) -> None:
    create(lam, role, "conc", Publish=True)
    lam.get_waiter("function_active_v2").wait(FunctionName="conc", WaiterConfig=WAIT)
    assert (
        lam.put_function_concurrency(FunctionName="conc", ReservedConcurrentExecutions=100)[
            "ReservedConcurrentExecutions"
        ]
        == 100
    )
    assert lam.get_function_concurrency(FunctionName="conc")["ReservedConcurrentExecutions"] == 100
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 900
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    with pytest.raises(ClientError) as exc:
        lam.put_function_concurrency(FunctionName="conc", ReservedConcurrentExecutions=901)
    assert error_of(exc)[1] == (
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100]."
    )
    assert lam.get_function(FunctionName="conc")["Concurrency"] == {
        "ReservedConcurrentExecutions": 100
    }

    with pytest.raises(ClientError) as exc:
        lam.put_provisioned_concurrency_config(
            FunctionName="conc", Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    assert error_of(exc)[0] == "InvalidParameterValueException"
    out = lam.put_provisioned_concurrency_config(
        FunctionName="conc", Qualifier="1", ProvisionedConcurrentExecutions=5
    )
    assert out["Status"] == "IN_PROGRESS"
    assert out["RequestedProvisionedConcurrentExecutions"] == 5
    got = lam.get_provisioned_concurrency_config(FunctionName="conc", Qualifier="1")
    assert got["RequestedProvisionedConcurrentExecutions"] == 5
    listed = lam.list_provisioned_concurrency_configs(FunctionName="conc")
    assert [
        c["FunctionArn"].rsplit(":", 1)[1] for c in listed["ProvisionedConcurrencyConfigs"]
    ] == ["1"]
    lam.delete_provisioned_concurrency_config(FunctionName="conc", Qualifier="1")
    with pytest.raises(ClientError) as exc:
        lam.get_provisioned_concurrency_config(FunctionName="conc", Qualifier="1")
    assert error_of(exc)[0] == "ProvisionedConcurrencyConfigNotFoundException"
    lam.delete_function_concurrency(FunctionName="conc")
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="conc")


def test_event_invoke_config(lam: Any, role: str) -> None:
    arn = create(lam, role, "async")["FunctionArn"]
    out = lam.put_function_event_invoke_config(
        FunctionName="async",
        MaximumRetryAttempts=1,
        MaximumEventAgeInSeconds=120,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}},
    )
    assert out["FunctionArn"] == arn + ":$LATEST"
    assert out["MaximumRetryAttempts"] == 1
    updated = lam.update_function_event_invoke_config(FunctionName="async", MaximumRetryAttempts=0)
    assert updated["MaximumRetryAttempts"] == 0
    assert updated["MaximumEventAgeInSeconds"] == 120
    assert updated["DestinationConfig"]["OnFailure"]["Destination"].endswith(":q")
    listed = lam.list_function_event_invoke_configs(FunctionName="async")
    assert len(listed["FunctionEventInvokeConfigs"]) == 1
    with pytest.raises(ClientError) as exc:
        lam.put_function_event_invoke_config(FunctionName="async", MaximumRetryAttempts=3)
    assert error_of(exc)[0] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        lam.put_function_event_invoke_config(
            FunctionName="async",
            DestinationConfig={"OnSuccess": {"Destination": arn}},
        )
    assert error_of(exc)[1] == "You can't specify the function as a destination for itself."
    lam.delete_function_event_invoke_config(FunctionName="async")
    with pytest.raises(ClientError) as exc:
        lam.get_function_event_invoke_config(FunctionName="async")
    assert error_of(exc)[1] == f"The function {arn}:$LATEST doesn't have an EventInvokeConfig"


def _raw(
    server: ServerProcess, method: str, path: str, body: bytes
) -> tuple[int, dict[str, str], Any]:
    """A signed request with a body boto3 would never send."""
    import urllib.error
    import urllib.request

    key, secret = server.credentials()
    url = server.endpoint + path
    req = AWSRequest(
        method=method, url=url, data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(Credentials(key, secret), "lambda", "us-east-1").add_auth(req)
    prepared = urllib.request.Request(url, data=body, method=method, headers=dict(req.headers))
    try:
        with urllib.request.urlopen(prepared, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"{}")


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        json.dumps({"FunctionName": "x", "Role": 5, "Code": {}}).encode(),
        json.dumps({"FunctionName": "x"}).encode(),
        json.dumps({"FunctionName": "x", "Role": "r", "Code": {"ZipFile": "!!"}}).encode(),
        json.dumps({"FunctionName": "x", "MemorySize": "big", "Role": "r", "Code": {}}).encode(),
    ],
)
def test_malformed_create_is_a_4xx(server: ServerProcess, body: bytes) -> None:
    status, headers, doc = _raw(server, "POST", "/2015-03-31/functions", body)
    assert 400 <= status < 500
    assert headers.get("x-amzn-ErrorType") in (
        "InvalidRequestContentException",
        "ValidationException",
        "SerializationException",
    )
    # AWS's ValidationException carries only a message; the others say whose fault it is.
    expected = None if headers["x-amzn-ErrorType"] == "ValidationException" else "User"
    assert doc.get("Type") == expected


def test_malformed_updates_are_4xx(server: ServerProcess, lam: Any, role: str) -> None:
    create(lam, role, "malformed")
    for path, method, body in [
        ("/2015-03-31/functions/malformed/configuration", "PUT", b'{"Timeout": "x"}'),
        ("/2015-03-31/functions/malformed/code", "PUT", b'{"ZipFile": 12}'),
        ("/2015-03-31/functions/malformed/aliases", "POST", b'{"Name": "a"}'),
        ("/2017-10-31/functions/malformed/concurrency", "PUT", b"{}"),
        ("/2015-03-31/functions/malformed/policy", "POST", b'{"StatementId": []}'),
    ]:
        status, headers, _ = _raw(server, method, path, body)
        assert 400 <= status < 500, (path, status)
        assert headers.get("x-amzn-ErrorType"), path


def test_oversized_request_is_413(server: ServerProcess, role: str) -> None:
    head = json.dumps({"FunctionName": "huge", "Role": role, "Runtime": "python3.12"})
    body = head[:-1].encode() + b', "Code": {"ZipFile": "' + b"A" * 70_200_000 + b'"}}'
    status, headers, doc = _raw(server, "POST", "/2015-03-31/functions", body)
    assert status == 413
    assert headers.get("x-amzn-ErrorType") == "RequestEntityTooLargeException"
    # The zip itself (52.65 MB decoded) is over 50 MB: AWS says so before the request size.
    assert doc["message"] == "Zipped size must be smaller than 52428800 bytes"
