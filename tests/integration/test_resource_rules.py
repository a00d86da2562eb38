"""AWS's answers about tags, permissions and code sizes (issue 8 §2, AWS-BEHAVIOURS §8),
through boto3 against a real server."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role

APP = "def handler(event, context):\n    return event\n"
ZIPPED_LIMIT = 52_428_800
UNZIPPED_LIMIT = 262_144_000


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


@pytest.fixture(scope="module")
def fn_arn(server: ServerProcess, lam: Any) -> str:
    out = lam.create_function(
        FunctionName="rules",
        Runtime="python3.12",
        Role=lambda_role(server, "rules"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
        Publish=True,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="rules")
    return str(out["FunctionArn"])


def failure(call: Any, **kwargs: Any) -> tuple[int, str, str, dict[str, Any]]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    resp: dict[str, Any] = dict(err.value.response)
    return (
        int(resp["ResponseMetadata"]["HTTPStatusCode"]),
        str(resp["Error"]["Code"]),
        str(resp["Error"]["Message"]),
        resp,
    )


QUALIFIED = (
    "Tags on function aliases and versions are not supported. Please specify a function ARN."
)


@pytest.mark.parametrize("operation", ["tag_resource", "untag_resource", "list_tags"])
def test_tags_on_a_qualified_arn(lam: Any, fn_arn: str, operation: str) -> None:
    """Refused before existence: the same answer for a function that does not exist."""
    args: dict[str, dict[str, Any]] = {
        "tag_resource": {"Tags": {"a": "1"}},
        "untag_resource": {"TagKeys": ["a"]},
    }
    for resource in (f"{fn_arn}:1", f"{fn_arn.replace(':rules', ':nobody')}:live"):
        status, code, message, _ = failure(
            getattr(lam, operation), Resource=resource, **args.get(operation, {})
        )
        assert (status, code, message) == (400, "InvalidParameterValueException", QUALIFIED)


def test_tags_on_unknown_event_source_mappings_and_capacity_providers(
    lam: Any, fn_arn: str
) -> None:
    region_account = ":".join(fn_arn.split(":")[3:5])
    esm = f"arn:aws:lambda:{region_account}:event-source-mapping:" + (
        "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    )
    provider = f"arn:aws:lambda:{region_account}:capacity-provider:my-provider"
    for resource, message in [
        (esm, f"Event source mapping not found: {esm}"),
        (provider, f"Capacity provider not found: {provider}"),
    ]:
        status, code, got, _ = failure(lam.list_tags, Resource=resource)
        assert (status, code, got) == (404, "ResourceNotFoundException", message)
        status, code, got, _ = failure(lam.tag_resource, Resource=resource, Tags={"a": "1"})
        assert (status, code, got) == (404, "ResourceNotFoundException", message)


@pytest.mark.parametrize("principal", ["bob", "arn:aws:s3:::bucket", "s3", "123"])
def test_add_permission_with_an_invalid_principal(lam: Any, fn_arn: str, principal: str) -> None:
    status, code, message, _ = failure(
        lam.add_permission,
        FunctionName="rules",
        StatementId="bad",
        Action="lambda:InvokeFunction",
        Principal=principal,
    )
    assert (status, code) == (400, "InvalidParameterValueException")
    assert (
        message == "The provided principal was invalid. Please check the principal and try again."
    )


@pytest.mark.parametrize(
    "principal",
    ["*", "111122223333", "arn:aws:iam::111122223333:role/caller", "events.amazonaws.com"],
)
def test_add_permission_with_each_kind_of_principal(lam: Any, fn_arn: str, principal: str) -> None:
    sid = f"ok-{abs(hash(principal))}"
    lam.add_permission(
        FunctionName="rules", StatementId=sid, Action="lambda:InvokeFunction", Principal=principal
    )
    lam.remove_permission(FunctionName="rules", StatementId=sid)


def test_a_zip_over_50_mb_is_refused_before_the_request_size(
    server: ServerProcess, fn_arn: str
) -> None:
    """52428801 bytes: its base64 (69905068 bytes) is also over UpdateFunctionCode's request
    limit (69905067), yet AWS names the zip's size."""
    big = server.client("lambda", read_timeout=300)
    status, code, message, _ = failure(
        big.update_function_code, FunctionName="rules", ZipFile=b"\0" * (ZIPPED_LIMIT + 1)
    )
    assert (status, code) == (413, "RequestEntityTooLargeException")
    assert message == f"Zipped size must be smaller than {ZIPPED_LIMIT} bytes"


def zip_unzipping_to(size: int) -> bytes:
    buf = io.BytesIO()
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("app.py", APP)
        with zf.open("padding.bin", "w", force_zip64=True) as out:
            left = size - len(APP)
            while left > 0:
                out.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
    return buf.getvalue()


def test_unzipped_size_at_the_limit_is_refused(lam: Any, fn_arn: str) -> None:
    status, code, message, _ = failure(
        lam.update_function_code, FunctionName="rules", ZipFile=zip_unzipping_to(UNZIPPED_LIMIT)
    )
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message == f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes"


def test_tags_on_an_existing_event_source_mapping(
    server: ServerProcess, lam: Any, fn_arn: str
) -> None:
    region_account = ":".join(fn_arn.split(":")[3:5])
    server.client("sqs").create_queue(QueueName="tagged-queue")  # it must exist, as on AWS
    mapping = lam.create_event_source_mapping(
        EventSourceArn=f"arn:aws:sqs:{region_account}:tagged-queue", FunctionName="rules"
    )
    arn = mapping["EventSourceMappingArn"]
    lam.tag_resource(Resource=arn, Tags={"team": "a", "tier": "1"})
    lam.untag_resource(Resource=arn, TagKeys=["tier"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
