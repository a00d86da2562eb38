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


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (2.0, "2.0"),
        (-1.0, "-1.0"),
        (0.25, "0.25"),
        (0.0, "0.0"),
        (0.001, "0.001"),
        (1e-05, "1.0E-5"),
        (1.5e-4, "1.5E-4"),
        (1e7, "1.0E7"),
        (12345678.9, "1.23456789E7"),
        (9999999.0, "9999999.0"),
    ],
)
def test_doubles_are_shown_as_java_shows_them(value: float, shown: str) -> None:
    assert validation.java_double(value) == shown


def test_a_map_value_out_of_range_lists_every_value_constraint() -> None:
    msg = problems(
        "CreateAlias",
        {
            "FunctionName": "f",
            "Name": "a",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"2": 2}},
        },
    )
    assert msg == (
        "1 validation error detected: Value '{2=2.0}' at "
        "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value "
        "must satisfy constraint: [Member must have value less than or equal to 1.0, Member "
        "must have value greater than or equal to 0.0, Member must not be null]"
    )


def test_map_keys_off_their_pattern_list_every_key_constraint() -> None:
    msg = problems(
        "CreateAlias",
        {
            "FunctionName": "f",
            "Name": "a",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"$LATEST": 0.5}},
        },
    )
    assert msg == (
        "1 validation error detected: Value '{$LATEST=0.5}' at "
        "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys "
        "must satisfy constraint: [Member must have length less than or equal to 1024, Member "
        "must have length greater than or equal to 1, Member must satisfy regular expression "
        "pattern: [0-9]+]"
    )


def test_a_sensitive_map_is_reported_without_its_value() -> None:
    """As AWS answers a bad environment variable name: where, never the secret."""
    msg = problems(
        "CreateFunction",
        {
            "FunctionName": "f",
            "Role": ROLE,
            "Code": {},
            "Environment": {"Variables": {"bad-name": "secret"}},
        },
    )
    assert msg == (
        "1 validation error detected: Value at 'environment.variables' failed to satisfy "
        "constraint: Map keys must satisfy constraint: [Member must satisfy regular expression "
        "pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
    )
    assert "secret" not in msg


def test_a_list_of_constrained_strings_is_reported_as_one_value() -> None:
    msg = problems(
        "CreateFunction", {"FunctionName": "f", "Role": ROLE, "Code": {}, "Layers": ["x"]}
    )
    assert msg.startswith(
        "1 validation error detected: Value '[x]' at 'layers' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must have length less than or equal to 2048, "
        "Member must have length greater than or equal to 1, Member must satisfy regular "
        "expression pattern: (arn:"
    )
    assert msg.endswith(", Member must not be null]")
