"""Function URL configuration through boto3 against a real `lambent serve`."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import ServerProcess, lambda_role

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def zipped() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    role = lambda_role(server, "url-api-role")
    client = server.client("lambda")
    client.create_function(
        FunctionName="urlfn",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped()},
    )
    client.get_waiter("function_active_v2").wait(FunctionName="urlfn")
    version = client.publish_version(FunctionName="urlfn")["Version"]
    client.create_alias(FunctionName="urlfn", Name="live", FunctionVersion=version)
    return client


def error_of(call: Any, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    resp = err.value.response
    return (
        int(resp["ResponseMetadata"]["HTTPStatusCode"]),
        str(resp["Error"]["Code"]),
        str(resp["Error"]["Message"]),
    )


def test_lifecycle_shapes(lam: Any, server: ServerProcess) -> None:
    arn = lam.get_function(FunctionName="urlfn")["Configuration"]["FunctionArn"]
    created = lam.create_function_url_config(FunctionName="urlfn", AuthType="NONE")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionArn"] == arn
    assert created["AuthType"] == "NONE"
    assert TIME.match(created["CreationTime"])
    assert created["FunctionUrl"].startswith(f"{server.endpoint}/_lambent/url/")
    assert re.search(r"/_lambent/url/[a-z0-9]{32}/$", created["FunctionUrl"])
    assert "LastModifiedTime" not in created

    got = lam.get_function_url_config(FunctionName=arn)
    assert got["FunctionUrl"] == created["FunctionUrl"]
    assert TIME.match(got["LastModifiedTime"])

    status, code, message = error_of(
        lam.create_function_url_config, FunctionName="urlfn", AuthType="NONE"
    )
    assert (status, code) == (409, "ResourceConflictException")
    assert message == (
        f"Failed to create function url config for [functionArn = {arn}]. Error message:  "
        "FunctionUrlConfig exists for this Lambda function"
    )

    updated = lam.update_function_url_config(
        FunctionName="urlfn",
        AuthType="AWS_IAM",
        Cors={"AllowOrigins": ["https://a.example"], "MaxAge": 60},
        InvokeMode="BUFFERED",
    )
    assert updated["AuthType"] == "AWS_IAM"
    assert updated["Cors"] == {"AllowOrigins": ["https://a.example"], "MaxAge": 60}
    assert updated["InvokeMode"] == "BUFFERED"
    assert updated["CreationTime"] == created["CreationTime"]

    lam.delete_function_url_config(FunctionName="urlfn")
    status, code, _ = error_of(lam.get_function_url_config, FunctionName="urlfn")
    assert (status, code) == (404, "ResourceNotFoundException")


def test_alias_url_and_listing(lam: Any) -> None:
    lam.create_function_url_config(FunctionName="urlfn", AuthType="NONE")
    live = lam.create_function_url_config(
        FunctionName="urlfn", Qualifier="live", AuthType="AWS_IAM", InvokeMode="RESPONSE_STREAM"
    )
    assert live["FunctionArn"].endswith(":function:urlfn:live")
    assert live["InvokeMode"] == "RESPONSE_STREAM"
    listed = lam.list_function_url_configs(FunctionName="urlfn")["FunctionUrlConfigs"]
    assert sorted(c["AuthType"] for c in listed) == ["AWS_IAM", "NONE"]
    page = lam.list_function_url_configs(FunctionName="urlfn", MaxItems=1)
    assert len(page["FunctionUrlConfigs"]) == 1
    rest = lam.list_function_url_configs(
        FunctionName="urlfn", MaxItems=1, Marker=page["NextMarker"]
    )
    assert len(rest["FunctionUrlConfigs"]) == 1
    assert (
        rest["FunctionUrlConfigs"][0]["FunctionUrl"] != page["FunctionUrlConfigs"][0]["FunctionUrl"]
    )
    lam.delete_function_url_config(FunctionName="urlfn", Qualifier="live")
    lam.delete_function_url_config(FunctionName="urlfn")
    assert lam.list_function_url_configs(FunctionName="urlfn")["FunctionUrlConfigs"] == []


def test_validation_and_missing_resources(lam: Any) -> None:
    status, code, message = error_of(
        lam.create_function_url_config, FunctionName="urlfn", Qualifier="1", AuthType="NONE"
    )
    assert (status, code) == (400, "ValidationException")
    assert "Value '1' at 'qualifier'" in message
    status, code, _ = error_of(
        lam.create_function_url_config, FunctionName="urlfn", Qualifier="$LATEST", AuthType="NONE"
    )
    assert (status, code) == (400, "ValidationException")
    status, code, message = error_of(
        lam.create_function_url_config, FunctionName="urlfn", AuthType="NONE", InvokeMode="X"
    )
    assert code == "ValidationException" and "invokeMode" in message
    status, code, message = error_of(
        lam.create_function_url_config, FunctionName="nope", AuthType="NONE"
    )
    assert (status, code, message) == (404, "ResourceNotFoundException", "Function does not exist")
    status, code, _ = error_of(
        lam.create_function_url_config, FunctionName="urlfn", Qualifier="ghost", AuthType="NONE"
    )
    assert (status, code) == (404, "ResourceNotFoundException")
    status, code, _ = error_of(lam.update_function_url_config, FunctionName="urlfn")
    assert (status, code) == (404, "ResourceNotFoundException")
    status, code, _ = error_of(lam.delete_function_url_config, FunctionName="urlfn")
    assert (status, code) == (404, "ResourceNotFoundException")
    status, code, _ = error_of(lam.list_function_url_configs, FunctionName="nope")
    assert (status, code) == (404, "ResourceNotFoundException")


def test_delete_function_takes_its_url(lam: Any, server: ServerProcess) -> None:
    role = lam.get_function(FunctionName="urlfn")["Configuration"]["Role"]
    lam.create_function(
        FunctionName="shortlived",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped()},
    )
    lam.create_function_url_config(FunctionName="shortlived", AuthType="NONE")
    lam.delete_function(FunctionName="shortlived")
    lam.create_function(
        FunctionName="shortlived",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped()},
    )
    status, code, _ = error_of(lam.get_function_url_config, FunctionName="shortlived")
    assert (status, code) == (404, "ResourceNotFoundException")
    lam.delete_function(FunctionName="shortlived")
