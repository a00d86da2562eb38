"""DeleteFunction's qualifier rules and aliases' answers as on AWS (AWS-BEHAVIOURS §4),
through boto3 against a real `lambent serve`, checked on the wire."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.lambda_wire import Failure, Lambda, arn, create
from tests.support import ServerProcess, lambda_role


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "aliases-runner")


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Lambda:
    return Lambda(server)


@pytest.fixture(scope="module")
def unchecked(server: ServerProcess) -> Lambda:
    return Lambda(server, client_checks=False)


@pytest.fixture(scope="module")
def account(role: str) -> str:
    return role.split(":")[4]


@pytest.fixture(scope="module")
def published(lam: Lambda, role: str) -> str:
    """A function with versions 1 and 2 and no alias yet."""
    create(lam, role, "versioned", Publish=True)
    lam.client.update_function_configuration(FunctionName="versioned", Timeout=9)
    lam.client.get_waiter("function_updated_v2").wait(
        FunctionName="versioned", WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    assert lam.client.publish_version(FunctionName="versioned")["Version"] == "2"
    return "versioned"


def answer(failure: Failure) -> tuple[str, int, str]:
    return failure.code, failure.status, failure.message


def test_deleting_a_missing_version_of_a_function_succeeds_until_the_function_is_gone(
    lam: Lambda, role: str, account: str
) -> None:
    create(lam, role, "gone-later")
    for _ in range(2):
        out = lam.client.delete_function(FunctionName="gone-later", Qualifier="5")
        assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    lam.client.delete_function(FunctionName="gone-later")
    failure = lam.fails(lam.client.delete_function, FunctionName="gone-later", Qualifier="5")
    assert answer(failure) == (
        "ResourceNotFoundException",
        404,
        f"Function not found: {arn(account, 'gone-later')}",
    )


@pytest.mark.parametrize(
    "params",
    [
        {"FunctionName": "never-was", "Qualifier": "$LATEST"},
        {"FunctionName": "never-was:$LATEST"},
    ],
)
def test_latest_cannot_be_deleted_checked_before_existence(
    lam: Lambda, params: dict[str, Any]
) -> None:
    failure = lam.fails(lam.client.delete_function, **params)
    assert answer(failure) == (
        "InvalidParameterValueException",
        400,
        "$LATEST version cannot be deleted without deleting the function.",
    )
    assert failure.body["Type"] == "User"


def test_get_function_through_an_alias_shows_the_alias_arn_and_the_target_version(
    lam: Lambda, published: str, account: str
) -> None:
    lam.client.create_alias(FunctionName=published, Name="shown", FunctionVersion="1")
    config = lam.client.get_function(FunctionName=published, Qualifier="shown")["Configuration"]
    assert config["FunctionArn"] == arn(account, published) + ":shown"
    assert config["Version"] == "1"


def test_deleting_a_missing_alias_succeeds(lam: Lambda, published: str) -> None:
    out = lam.client.delete_alias(FunctionName=published, Name="no-such-alias")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_updating_a_missing_alias_is_alias_not_found(
    lam: Lambda, published: str, account: str
) -> None:
    failure = lam.fails(
        lam.client.update_alias, FunctionName=published, Name="no-such-alias", FunctionVersion="1"
    )
    assert answer(failure) == (
        "ResourceNotFoundException",
        404,
        f"Alias not found: {arn(account, published)}:no-such-alias",
    )


def test_getting_a_missing_alias_cannot_find_its_arn(
    lam: Lambda, published: str, account: str
) -> None:
    failure = lam.fails(lam.client.get_alias, FunctionName=published, Name="no-such-alias")
    assert answer(failure) == (
        "ResourceNotFoundException",
        404,
        f"Cannot find alias arn: {arn(account, published)}:no-such-alias",
    )


def test_an_alias_of_a_missing_function_names_the_version_it_was_to_point_at(
    lam: Lambda, account: str
) -> None:
    failure = lam.fails(
        lam.client.create_alias, FunctionName="never-was", Name="live", FunctionVersion="3"
    )
    assert answer(failure) == (
        "ResourceNotFoundException",
        404,
        f"Function not found: {arn(account, 'never-was')}:3",
    )


@pytest.mark.parametrize(("weight", "shown"), [(2.0, "2.0"), (-1.0, "-1.0"), (2, "2.0")])
def test_a_routing_weight_out_of_range_is_a_validation_error_shown_java_style(
    unchecked: Lambda, published: str, weight: float, shown: str
) -> None:
    failure = unchecked.fails(
        unchecked.client.create_alias,
        FunctionName=published,
        Name="weighted",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": weight}},
    )
    assert answer(failure) == (
        "ValidationException",
        400,
        f"1 validation error detected: Value '{{2={shown}}}' at "
        "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value "
        "must satisfy constraint: [Member must have value less than or equal to 1.0, Member "
        "must have value greater than or equal to 0.0, Member must not be null]",
    )
    assert "Type" not in failure.body


def test_a_routing_key_of_latest_is_a_validation_error(lam: Lambda, published: str) -> None:
    failure = lam.fails(
        lam.client.create_alias,
        FunctionName=published,
        Name="weighted",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"$LATEST": 0.5}},
    )
    assert answer(failure) == (
        "ValidationException",
        400,
        "1 validation error detected: Value '{$LATEST=0.5}' at "
        "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys "
        "must satisfy constraint: [Member must have length less than or equal to 1024, Member "
        "must have length greater than or equal to 1, Member must satisfy regular expression "
        "pattern: [0-9]+]",
    )
    assert "Type" not in failure.body


def test_an_alias_of_latest_cannot_have_weights(lam: Lambda, published: str) -> None:
    failure = lam.fails(
        lam.client.create_alias,
        FunctionName=published,
        Name="weighted",
        FunctionVersion="$LATEST",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    assert answer(failure) == (
        "InvalidParameterValueException",
        400,
        "$LATEST is not supported for an alias pointing to more than 1 version",
    )
    assert "Type" not in failure.body
