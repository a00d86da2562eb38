"""Model-driven validation: AWS's message format for each kind of broken constraint."""

from __future__ import annotations

from typing import Any

import pytest

from lambent.api import validation
from lambent.api.model import Models
from lambent.errors import ValidationError

MODELS = Models.load()
ROLE = "arn:aws:iam::123456789012:role/r"


def problems(op: str, params: dict[str, Any], service: str = "lambda") -> str:
    with pytest.raises(ValidationError) as err:
        validation.validate(MODELS.operation(service, op).input_shape, params)
    return err.value.message


def test_range_and_count() -> None:
    msg = problems(
        "CreateFunction", {"FunctionName": "f", "Role": ROLE, "Code": {}, "MemorySize": 40000}
    )
    assert msg == (
        "1 validation error detected: Value '40000' at 'memorySize' failed to satisfy "
        "constraint: Member must have value less than or equal to 32768"
    )


def test_missing_members_are_null() -> None:
    msg = problems("CreateFunction", {"FunctionName": "f"})
    assert msg.startswith("2 validation errors detected: ")
    assert "Value null at 'role' failed to satisfy constraint: Member must not be null" in msg
    assert "Value null at 'code' failed to satisfy constraint: Member must not be null" in msg


def test_enum_and_pattern() -> None:
    msg = problems("Invoke", {"FunctionName": "f", "InvocationType": "Later"})
    assert (
        "at 'invocationType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Event, RequestResponse, DryRun]" in msg
    )
    msg = problems("GetFunction", {"FunctionName": "bad name!"})
    assert msg.startswith(
        "1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
    )


def test_a_list_of_enums_is_reported_as_one_value() -> None:
    msg = problems(
        "CreateFunction", {"FunctionName": "f", "Role": ROLE, "Code": {}, "Architectures": ["foo"]}
    )
    assert msg == (
        "1 validation error detected: Value '[foo]' at 'architectures' failed to satisfy "
        "constraint: Member must satisfy constraint: [Member must satisfy enum value set: "
        "[x86_64, arm64], Member must not be null]"
    )


def test_nested_members_and_lengths() -> None:
    msg = problems(
        "CreateFunction",
        {"FunctionName": "f", "Role": ROLE, "Code": {}, "Description": "x" * 300},
    )
    assert (
        "at 'description' failed to satisfy constraint: "
        "Member must have length less than or equal to 256" in msg
    )


def test_valid_input_passes() -> None:
    validation.validate(
        MODELS.operation("lambda", "CreateFunction").input_shape,
        {"FunctionName": "f", "Role": ROLE, "Code": {"ZipFile": b"x"}, "MemorySize": 256},
    )
