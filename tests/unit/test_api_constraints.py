"""AWS's live pattern texts replace botocore's bundled ones (AWS-BEHAVIOURS §1), and they
accept and refuse what AWS accepts and refuses."""

from __future__ import annotations

import json
import re

import botocore.session
import pytest

from lambent.api import constraints
from lambent.api.model import Models

MODELS = Models.load()

# Verbatim from AWS's answers.
AWS_CREATE = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
AWS_GET = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
AWS_QUALIFIER = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"


def member(op: str, name: str) -> dict[str, object]:
    shape = MODELS.operation("lambda", op).input_shape
    assert shape is not None
    return dict(shape.members[name].metadata)


def test_create_function_name_has_awss_pattern_and_length() -> None:
    meta = member("CreateFunction", "FunctionName")
    assert meta["pattern"] == AWS_CREATE
    assert meta["max"] == 140


@pytest.mark.parametrize(
    "op", ["GetFunction", "GetFunctionConfiguration", "DeleteFunction", "Invoke"]
)
def test_get_delete_invoke_have_awss_patterns_and_lengths(op: str) -> None:
    assert member(op, "FunctionName")["pattern"] == AWS_GET
    assert member(op, "FunctionName")["max"] == 256
    assert member(op, "Qualifier")["pattern"] == AWS_QUALIFIER
    assert member(op, "Qualifier")["max"] == 128


def test_every_shape_naming_a_function_accepts_eusc_regions() -> None:
    for op in ("UpdateFunctionCode", "PublishVersion", "GetPolicy", "ListAliases"):
        pattern = str(member(op, "FunctionName")["pattern"])
        assert re.fullmatch(pattern, "arn:aws:lambda:eusc-de-east-1:123456789012:function:f")


REJECTED = [
    "my-function!",
    "*",
    "invalid-account:function:my-function",
    "arn:aws:lambda:invalid-region:123456789012:function:f",
    "arn:aws:ec2:us-east-1:123456789012:function:f",
    "arn:aws:lambda::123456789012:function:f",
    "arn:aws:lambda:us-east-1::function:f",
    "arn:aws:lambda:us-east-1:123456789012:function:f:1:2",
    "function:f:$LATEST:extra",
    "arn:aws:lambda:us-east-1:123456789012:function:f:$LATES",
]


@pytest.mark.parametrize("value", REJECTED)
def test_values_aws_rejected_fail_both_patterns(value: str) -> None:
    assert re.fullmatch(AWS_GET, value) is None
    assert re.fullmatch(AWS_CREATE, value) is None


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST:1",
        "arn:aws:lambda:us-east-1:123456789012:function:f:$latest",
        "my-function:invalid!",
    ],
)
def test_values_aws_rejected_at_create(value: str) -> None:
    assert re.fullmatch(AWS_CREATE, value) is None


@pytest.mark.parametrize(
    "value",
    [
        "f",
        "f:$LATEST",
        "123456789012:function:f:prod",
        "arn:aws:lambda:eusc-de-east-1:123456789012:function:f",
        "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:1",
        "arn:aws:lambda:us-east-1:123456789012:function",
    ],
)
def test_values_aws_accepts(value: str) -> None:
    assert re.fullmatch(AWS_CREATE, value) is not None
    assert re.fullmatch(AWS_GET, value) is not None


def test_eusc_is_added_once_to_a_region_part() -> None:
    bundled = r"arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:x"
    once = constraints.with_eusc(bundled)
    assert (
        once
        == r"arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:x"
    )
    assert constraints.with_eusc(once) == once


def test_the_bundled_model_is_left_alone() -> None:
    """botocore caches its models (boto3 clients in the same process use them): the live
    constraints go on a copy."""
    loader = botocore.session.get_session().get_component("data_loader")
    data = loader.load_service_model("lambda", "service-2", api_version="2015-03-31")
    before = json.dumps(data, sort_keys=True)
    live = constraints.live("lambda", data)
    assert json.dumps(data, sort_keys=True) == before
    assert live["shapes"]["FunctionName"]["pattern"] == AWS_CREATE
