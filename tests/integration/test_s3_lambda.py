"""Lambda code from S3: CreateFunction, UpdateFunctionCode and PublishLayerVersion read the
object named by S3Bucket/S3Key/S3ObjectVersion from Lambent's own S3, and fail as AWS does."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import files_zip
from tests.support import ServerProcess, lambda_role

GET_OBJECT_FAILED = "Error occurred while GetObject. S3 Error Code: {}. S3 Error Message: {}"


def app(answer: str) -> bytes:
    return files_zip({"app.py": f"def handler(event, context):\n    return {answer}\n"})


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "s3-code")


@pytest.fixture(scope="module")
def s3(server: ServerProcess) -> Any:
    client = server.client("s3")
    client.create_bucket(Bucket="code-bucket")
    return client


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


def invoke(lam: Any, name: str) -> Any:
    resp = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in resp, resp["Payload"].read()
    return json.loads(resp["Payload"].read())


def create(lam: Any, role: str, name: str, code: dict[str, Any], **extra: Any) -> Any:
    out = lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code=code,
        **extra,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return out


def message(err: pytest.ExceptionInfo[ClientError]) -> str:
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(err.value.response["Error"]["Message"])


def test_create_from_s3_then_invoke(lam: Any, s3: Any, role: str) -> None:
    body = app("{'from': 's3', 'version': 1}")
    s3.put_object(Bucket="code-bucket", Key="fn/v1.zip", Body=body)
    out = create(lam, role, "from-s3", {"S3Bucket": "code-bucket", "S3Key": "fn/v1.zip"})
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert out["CodeSize"] == len(body)
    assert invoke(lam, "from-s3") == {"from": "s3", "version": 1}


def test_update_code_from_s3(lam: Any, s3: Any, role: str) -> None:
    s3.put_object(Bucket="code-bucket", Key="upd/v1.zip", Body=app("'first'"))
    create(lam, role, "update-me", {"S3Bucket": "code-bucket", "S3Key": "upd/v1.zip"})
    assert invoke(lam, "update-me") == "first"
    s3.put_object(Bucket="code-bucket", Key="upd/v2.zip", Body=app("'second'"))
    lam.update_function_code(FunctionName="update-me", S3Bucket="code-bucket", S3Key="upd/v2.zip")
    lam.get_waiter("function_updated_v2").wait(FunctionName="update-me")
    assert invoke(lam, "update-me") == "second"


def test_object_versions_pick_the_code(lam: Any, s3: Any, role: str) -> None:
    s3.create_bucket(Bucket="versioned-code")
    s3.put_bucket_versioning(Bucket="versioned-code", VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket="versioned-code", Key="f.zip", Body=app("'old'"))["VersionId"]
    s3.put_object(Bucket="versioned-code", Key="f.zip", Body=app("'new'"))
    code = {"S3Bucket": "versioned-code", "S3Key": "f.zip", "S3ObjectVersion": old}
    create(lam, role, "pinned", code)
    assert invoke(lam, "pinned") == "old"
    lam.update_function_code(FunctionName="pinned", S3Bucket="versioned-code", S3Key="f.zip")
    lam.get_waiter("function_updated_v2").wait(FunctionName="pinned")
    assert invoke(lam, "pinned") == "new"
    with pytest.raises(ClientError) as err:
        create(lam, role, "no-version", {**code, "S3ObjectVersion": "not-a-version"})
    assert message(err) == GET_OBJECT_FAILED.format(
        "NoSuchVersion", "The specified version does not exist."
    )


def test_layer_from_s3_is_mounted_for_the_function(lam: Any, s3: Any, role: str) -> None:
    layer = files_zip({"python/shared_lib.py": "GREETING = 'hello from a layer in S3'\n"})
    s3.put_object(Bucket="code-bucket", Key="layers/shared.zip", Body=layer)
    published = lam.publish_layer_version(
        LayerName="shared",
        Content={"S3Bucket": "code-bucket", "S3Key": "layers/shared.zip"},
        CompatibleRuntimes=["python3.11"],
    )
    assert published["Content"]["CodeSize"] == len(layer)
    assert published["Content"]["CodeSha256"] == (
        base64.b64encode(hashlib.sha256(layer).digest()).decode()
    )
    fn = files_zip(
        {"app.py": "import shared_lib\ndef handler(e, c):\n    return shared_lib.GREETING\n"}
    )
    create(lam, role, "uses-layer", {"ZipFile": fn}, Layers=[published["LayerVersionArn"]])
    assert invoke(lam, "uses-layer") == "hello from a layer in S3"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            {"S3Bucket": "no-such-bucket", "S3Key": "x.zip"},
            GET_OBJECT_FAILED.format("NoSuchBucket", "The specified bucket does not exist"),
        ),
        (
            {"S3Bucket": "code-bucket", "S3Key": "missing.zip"},
            GET_OBJECT_FAILED.format("NoSuchKey", "The specified key does not exist."),
        ),
    ],
)
def test_missing_code_objects(
    lam: Any, s3: Any, role: str, code: dict[str, str], expected: str
) -> None:
    with pytest.raises(ClientError) as err:
        create(lam, role, "never-created", code)
    assert message(err) == expected
    with pytest.raises(ClientError) as err:
        lam.update_function_code(FunctionName="from-s3", **code)
    assert message(err) == expected
    with pytest.raises(ClientError) as err:
        lam.publish_layer_version(LayerName="never", Content=code)
    assert message(err) == expected


def test_a_bucket_in_another_region_is_a_redirect(
    server: ServerProcess, lam: Any, role: str
) -> None:
    west = server.client("s3", region_name="eu-west-1")
    west.create_bucket(
        Bucket="eu-code", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    west.put_object(Bucket="eu-code", Key="f.zip", Body=app("1"))
    with pytest.raises(ClientError) as err:
        create(lam, role, "cross-region", {"S3Bucket": "eu-code", "S3Key": "f.zip"})
    assert message(err) == GET_OBJECT_FAILED.format(
        "PermanentRedirect",
        "The bucket is in this region: eu-west-1. Please use this region to retry the request",
    )


def test_an_object_that_is_not_a_zip(lam: Any, s3: Any, role: str) -> None:
    s3.put_object(Bucket="code-bucket", Key="not-a.zip", Body=b"plain text")
    with pytest.raises(ClientError) as err:
        create(lam, role, "bad-zip", {"S3Bucket": "code-bucket", "S3Key": "not-a.zip"})
    assert message(err).startswith("Could not unzip uploaded file.")
