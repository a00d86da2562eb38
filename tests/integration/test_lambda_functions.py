"""The Lambda control plane through real boto3 against a real `lambent serve` (SigV4)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, http_get, lambda_role

WAIT = {"Delay": 1, "MaxAttempts": 30}


def make_zip(body: str = "def handler(event, context):\n    return event\n") -> bytes:
    return python_zip(body)


def account_of(role_arn: str) -> str:
    return role_arn.split(":")[4]


def sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "lambda-runner")


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


def create(lam: Any, role: str, name: str, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": role,
        "Handler": "app.handler",
        "Code": {"ZipFile": make_zip()},
        **extra,
    }
    out: dict[str, Any] = lam.create_function(**params)
    return out


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    resp = exc.value.response
    return (
        resp["Error"]["Code"],
        resp["Error"]["Message"],
        resp["ResponseMetadata"]["HTTPStatusCode"],
    )


def publish_and_alias(lam: Any, arn: str) -> None:
    v1 = lam.publish_version(FunctionName="accept", Description="first")
    assert v1["Version"] == "1"
    assert v1["FunctionArn"] == arn + ":1"
    assert lam.publish_version(FunctionName="accept")["Version"] == "1"  # nothing changed
    lam.update_function_configuration(FunctionName="accept", Timeout=31)
    lam.get_waiter("function_updated_v2").wait(FunctionName="accept", WaiterConfig=WAIT)
    v2 = lam.publish_version(FunctionName="accept")
    assert v2["Version"] == "2"
    lam.get_waiter("function_active_v2").wait(
        FunctionName="accept", Qualifier="2", WaiterConfig=WAIT
    )

    alias = lam.create_alias(
        FunctionName="accept",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}},
    )
    assert alias["AliasArn"] == arn + ":live"
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    by_alias = lam.get_function_configuration(FunctionName="accept", Qualifier="live")
    assert by_alias["Version"] == "1"
    versions = lam.list_versions_by_function(FunctionName="accept")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]


def test_acceptance_path(lam: Any, role: str) -> None:
    code = make_zip()
    created = create(lam, role, "accept", Code={"ZipFile": code}, Tags={"team": "a"})
    arn = f"arn:aws:lambda:us-east-1:{account_of(role)}:function:accept"
    assert created["FunctionArn"] == arn
    assert created["State"] == "Pending"
    assert created["CodeSha256"] == sha(code)
    assert created["CodeSize"] == len(code)
    assert created["Version"] == "$LATEST"
    lam.get_waiter("function_active_v2").wait(FunctionName="accept", WaiterConfig=WAIT)

    got = lam.get_function(FunctionName="accept")
    cfg = got["Configuration"]
    assert cfg["State"] == "Active"
    assert cfg["LastUpdateStatus"] == "Successful"
    assert got["Tags"] == {"team": "a"}
    status, body = http_get(got["Code"]["Location"])
    assert status == 200
    assert body == code

    new_code = make_zip("def handler(event, context):\n    return 2\n")
    updated = lam.update_function_code(FunctionName="accept", ZipFile=new_code)
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["RevisionId"] != cfg["RevisionId"]
    lam.get_waiter("function_updated_v2").wait(FunctionName="accept", WaiterConfig=WAIT)
    conf = lam.update_function_configuration(
        FunctionName="accept", MemorySize=256, Timeout=30, Environment={"Variables": {"KEY": "v"}}
    )
    assert conf["MemorySize"] == 256
    lam.get_waiter("function_updated_v2").wait(FunctionName="accept", WaiterConfig=WAIT)
    now = lam.get_function_configuration(FunctionName="accept")
    assert now["CodeSha256"] == sha(new_code)
    assert now["Environment"] == {"Variables": {"KEY": "v"}}
    assert now["LastUpdateStatus"] == "Successful"

    publish_and_alias(lam, arn)

    with pytest.raises(ClientError) as exc:
        lam.delete_function(FunctionName="accept", Qualifier="1")
    assert error_of(exc)[0] == "ResourceConflictException"
    lam.delete_function(FunctionName="accept")
    with pytest.raises(ClientError) as exc:
        lam.get_function(FunctionName="accept")
    assert error_of(exc) == ("ResourceNotFoundException", f"Function not found: {arn}", 404)


def test_paginated_list(lam: Any, role: str) -> None:
    names = [f"page-{i:02d}" for i in range(7)]
    for name in names:
        create(lam, role, name)
    seen: list[str] = []
    marker: str | None = None
    while True:
        kwargs: dict[str, Any] = {"MaxItems": 3}
        if marker:
            kwargs["Marker"] = marker
        page = lam.list_functions(**kwargs)
        seen.extend(f["FunctionName"] for f in page["Functions"])
        marker = page.get("NextMarker")
        if not marker:
            break
    assert [n for n in seen if n.startswith("page-")] == names
    paginator = lam.get_paginator("list_functions")
    total = [f["FunctionName"] for p in paginator.paginate() for f in p["Functions"]]
    assert set(names) <= set(total)


def test_create_errors(lam: Any, role: str) -> None:
    create(lam, role, "dup")
    with pytest.raises(ClientError) as exc:
        create(lam, role, "dup")
    assert error_of(exc) == ("ResourceConflictException", "Function already exist: dup", 409)
    with pytest.raises(ClientError) as exc:
        create(lam, role, "old", Runtime="python3.9")
    assert error_of(exc)[0] == "InvalidParameterValueException"
    assert "python3.9 is no longer supported" in error_of(exc)[1]
    with pytest.raises(ClientError) as exc:
        create(lam, role, "norole", Role=f"arn:aws:iam::{account_of(role)}:role/missing")
    assert error_of(exc) == (
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
        400,
    )
    with pytest.raises(ClientError) as exc:
        create(lam, role, "big", MemorySize=10241)
    assert error_of(exc)[0] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        create(lam, role, "env", Environment={"Variables": {"BIG": "x" * 5000}})
    assert "exceeded the 4KB limit" in error_of(exc)[1]
    with pytest.raises(ClientError) as exc:
        create(lam, role, "badzip", Code={"ZipFile": b"not a zip"})
    assert error_of(exc)[1] == (
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    )
    with pytest.raises(ClientError) as exc:
        create(lam, role, "image", PackageType="Image", Code={"ImageUri": "x"})
    assert error_of(exc)[0] == "InvalidParameterValueException"


def test_update_with_stale_revision(lam: Any, role: str) -> None:
    create(lam, role, "rev")
    lam.get_waiter("function_active_v2").wait(FunctionName="rev", WaiterConfig=WAIT)
    with pytest.raises(ClientError) as exc:
        lam.update_function_configuration(FunctionName="rev", Timeout=9, RevisionId="nope")
    assert error_of(exc)[0] == "PreconditionFailedException"
    assert error_of(exc)[2] == 412


def test_dry_run_changes_nothing(lam: Any, role: str) -> None:
    before = create(lam, role, "dry")
    lam.get_waiter("function_active_v2").wait(FunctionName="dry", WaiterConfig=WAIT)
    out = lam.update_function_code(FunctionName="dry", ZipFile=make_zip("x = 1"), DryRun=True)
    assert out["CodeSha256"] == sha(make_zip("x = 1"))
    after = lam.get_function_configuration(FunctionName="dry")
    assert after["CodeSha256"] == before["CodeSha256"]
    assert after["RevisionId"] == lam.get_function_configuration(FunctionName="dry")["RevisionId"]


def test_delete_rules(lam: Any, role: str) -> None:
    create(lam, role, "del", Publish=True)
    lam.get_waiter("function_active_v2").wait(FunctionName="del", WaiterConfig=WAIT)
    with pytest.raises(ClientError) as exc:
        lam.delete_function(FunctionName="del", Qualifier="$LATEST")
    assert error_of(exc)[1] == "$LATEST version cannot be deleted without deleting the function."
    lam.delete_function(FunctionName="del:1")
    with pytest.raises(ClientError) as exc:
        lam.get_function(FunctionName="del", Qualifier="1")
    assert error_of(exc)[0] == "ResourceNotFoundException"
    lam.get_function(FunctionName="del")


def test_other_account_sees_nothing(lam: Any, role: str, server: ServerProcess) -> None:
    create(lam, role, "mine")
    with pytest.raises(ClientError) as exc:
        lam.get_function(FunctionName="999999999999:function:mine")
    assert error_of(exc)[0] == "ResourceNotFoundException"
    other_region = server.client("lambda", region_name="eu-west-1")
    assert "mine" not in [f["FunctionName"] for f in other_region.list_functions()["Functions"]]


def test_code_url_refuses_tampering(lam: Any, role: str) -> None:
    create(lam, role, "dl")
    location = lam.get_function(FunctionName="dl")["Code"]["Location"]
    status, body = http_get(location[:-3] + "AAA")
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body


def test_list_all_versions(lam: Any, role: str) -> None:
    create(lam, role, "allv", Publish=True)
    every = [f for f in lam.list_functions(FunctionVersion="ALL")["Functions"]]
    mine = sorted(f["FunctionArn"].rsplit(":", 1)[1] for f in every if f["FunctionName"] == "allv")
    assert mine == ["$LATEST", "1"]
    plain = [f for f in lam.list_functions()["Functions"] if f["FunctionName"] == "allv"]
    assert len(plain) == 1
    assert plain[0]["FunctionArn"].endswith(":function:allv")


def test_an_update_that_changes_nothing_still_gives_a_new_version(lam: Any, role: str) -> None:
    """Uploading the same zip again and publishing makes a new version on AWS (moto's
    AWS-verified test_update_function_zip records it); publishing again without an update
    returns that version."""
    code = make_zip("def handler(event, context):\n    return 'same'\n")
    create(lam, role, "same-code", Code={"ZipFile": code}, Publish=True)
    lam.get_waiter("function_active_v2").wait(FunctionName="same-code", WaiterConfig=WAIT)
    assert lam.publish_version(FunctionName="same-code")["Version"] == "1"

    lam.update_function_code(FunctionName="same-code", ZipFile=code)
    lam.get_waiter("function_updated_v2").wait(FunctionName="same-code", WaiterConfig=WAIT)
    second = lam.publish_version(FunctionName="same-code")
    assert second["Version"] == "2"
    assert second["CodeSha256"] == sha(code)
    assert lam.publish_version(FunctionName="same-code")["Version"] == "2"
