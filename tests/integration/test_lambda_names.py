"""Function names, ARNs and qualifiers as AWS checks them, in AWS's order, with AWS's texts
(AWS-BEHAVIOURS §1), through boto3 against a real `lambent serve`.

Each answer is checked on the wire: code, status, message and whether the body has a
`Type` (AWS's request checks send none).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.lambda_wire import REGION, Failure, Lambda, arn, create_params
from tests.support import ServerProcess, lambda_role

# AWS's texts, as AWS-BEHAVIOURS quotes them.
CREATE_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
GET_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "names-runner")


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Lambda:
    return Lambda(server)


@pytest.fixture(scope="module")
def account(role: str) -> str:
    return role.split(":")[4]


def pattern_error(value: str, member: str, pattern: str) -> str:
    return (
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {pattern}"
    )


def assert_validation(failure: Failure, message: str) -> None:
    """AWS's ValidationException: 400, only a message, no Type."""
    assert (failure.code, failure.status, failure.message) == (
        "ValidationException",
        400,
        message,
    )
    assert "Type" not in failure.body


# Values AWS rejected on the pattern (AWS-BEHAVIOURS §1.1); {a} is the account.
REJECTED = [
    "my-function!",
    "*",
    "invalid-account:function:my-function",
    "arn:aws:lambda:invalid-region:{a}:function:f",
    "arn:aws:ec2:us-east-1:{a}:function:f",
    "arn:aws:lambda::{a}:function:f",
    "arn:aws:lambda:us-east-1::function:f",
    "arn:aws:lambda:us-east-1:{a}:function:f:1:2",
    "function:f:$LATEST:extra",
    "arn:aws:lambda:us-east-1:{a}:function:f:$LATES",
]
REJECTED_BY_CREATE = [
    *REJECTED,
    "arn:aws:lambda:us-east-1:{a}:function:f:$LATEST:1",
    "arn:aws:lambda:us-east-1:{a}:function:f:$latest",
    "my-function:invalid!",
]


@pytest.mark.parametrize("template", REJECTED_BY_CREATE)
def test_create_function_rejects_a_name_off_the_pattern(
    lam: Lambda, role: str, account: str, template: str
) -> None:
    value = template.format(a=account)
    failure = lam.fails(lam.client.create_function, **create_params(role, value))
    assert_validation(failure, pattern_error(value, "functionName", CREATE_PATTERN))


@pytest.mark.parametrize(
    "operation", ["get_function", "get_function_configuration", "delete_function", "invoke"]
)
@pytest.mark.parametrize("template", REJECTED)
def test_get_delete_and_invoke_reject_a_name_off_the_pattern(
    lam: Lambda, account: str, operation: str, template: str
) -> None:
    value = template.format(a=account)
    failure = lam.fails(getattr(lam.client, operation), FunctionName=value)
    assert_validation(failure, pattern_error(value, "functionName", GET_PATTERN))


def test_a_name_over_the_length_and_off_the_pattern_gets_both_in_one_error(
    lam: Lambda, role: str
) -> None:
    value = "x" * 140 + "!"
    failure = lam.fails(lam.client.create_function, **create_params(role, value))
    assert (failure.code, failure.status) == ("ValidationException", 400)
    assert "Type" not in failure.body
    head, _, items = failure.message.partition(": ")
    assert head == "2 validation errors detected"
    assert sorted(items.split("; ")) == sorted(
        [
            f"Value '{value}' at 'functionName' failed to satisfy constraint: Member must have "
            "length less than or equal to 140",
            f"Value '{value}' at 'functionName' failed to satisfy constraint: Member must "
            f"satisfy regular expression pattern: {CREATE_PATTERN}",
        ]
    )


def test_get_delete_and_invoke_take_long_names_without_a_length_error(
    lam: Lambda, account: str
) -> None:
    name = "n" * 234
    for call, shown in (
        (lam.client.get_function, arn(account, name)),
        (lam.client.delete_function, arn(account, name)),
        (lam.client.invoke, arn(account, name) + ":$LATEST"),
    ):
        failure = lam.fails(call, FunctionName=name)
        assert (failure.code, failure.status, failure.message) == (
            "ResourceNotFoundException",
            404,
            f"Function not found: {shown}",
        )


def test_a_qualifier_over_128_or_off_its_pattern_is_a_validation_error(lam: Lambda) -> None:
    long = "q" * 129
    failure = lam.fails(lam.client.get_function, FunctionName="f", Qualifier=long)
    assert_validation(
        failure,
        f"1 validation error detected: Value '{long}' at 'qualifier' failed to satisfy "
        "constraint: Member must have length less than or equal to 128",
    )
    failure = lam.fails(lam.client.get_function, FunctionName="f", Qualifier="bad!")
    assert_validation(failure, pattern_error("bad!", "qualifier", QUALIFIER_PATTERN))


def test_an_eusc_region_is_a_valid_region(lam: Lambda, account: str) -> None:
    """`(eusc-)?` is in the pattern: the name passes, and it is answered as a region."""
    value = arn(account, "f", region="eusc-de-east-1")
    failure = lam.fails(lam.client.get_function, FunctionName=value)
    assert (failure.code, failure.status, failure.message) == (
        "ResourceNotFoundException",
        404,
        "Functions from 'eusc-de-east-1' are not reachable in this region ('us-east-1')",
    )


def test_create_function_refuses_a_plain_name_over_64_as_an_invalid_parameter(
    lam: Lambda, role: str, account: str
) -> None:
    name = "a" * 65
    failure = lam.fails(lam.client.create_function, **create_params(role, name))
    assert (failure.code, failure.status, failure.message) == (
        "InvalidParameterValueException",
        400,
        f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
        "constraint: Member must have length less than or equal to 64",
    )
    assert failure.body["Type"] == "User"
    # Get, Delete and Invoke take it as a name, and do not find it.
    failure = lam.fails(lam.client.get_function, FunctionName=name)
    assert (failure.code, failure.message) == (
        "ResourceNotFoundException",
        f"Function not found: {arn(account, name)}",
    )


REGION_CHECKED: list[tuple[str, dict[str, Any]]] = [
    ("get_function", {}),
    ("get_function_configuration", {}),
    ("get_function_url_config", {}),
    ("get_function_event_invoke_config", {}),
    ("get_function_concurrency", {}),
    ("delete_function", {}),
    ("invoke", {}),
]


@pytest.mark.parametrize(("operation", "extra"), REGION_CHECKED)
def test_an_arn_of_another_region_is_not_reachable_before_existence(
    lam: Lambda, account: str, operation: str, extra: dict[str, Any]
) -> None:
    value = arn(account, "nowhere-fn", region="eu-west-1")
    failure = lam.fails(getattr(lam.client, operation), FunctionName=value, **extra)
    assert (failure.code, failure.status, failure.message) == (
        "ResourceNotFoundException",
        404,
        "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
    )
    assert failure.body["Type"] == "User"


def test_create_function_with_an_arn_of_another_region_is_not_reachable(
    lam: Lambda, role: str, account: str
) -> None:
    value = arn(account, "elsewhere", region="eu-west-1")
    failure = lam.fails(lam.client.create_function, **create_params(role, value))
    assert (failure.code, failure.status, failure.message) == (
        "ResourceNotFoundException",
        404,
        "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
    )


def test_create_function_with_another_accounts_arn_is_denied_without_a_message(
    lam: Lambda, role: str
) -> None:
    value = arn("999999999999", "theirs")
    failure = lam.fails(lam.client.create_function, **create_params(role, value))
    assert (failure.code, failure.status, failure.message) == ("AccessDeniedException", 403, "")
    assert failure.body == {}


def test_an_arn_ending_in_function_names_a_function_called_function(
    lam: Lambda, role: str, account: str
) -> None:
    value = f"arn:aws:lambda:{REGION}:{account}:function"
    for call, shown in (
        (lam.client.get_function, arn(account, "function")),
        (lam.client.delete_function, arn(account, "function")),
        (lam.client.invoke, arn(account, "function") + ":$LATEST"),
    ):
        failure = lam.fails(call, FunctionName=value)
        assert (failure.code, failure.status, failure.message) == (
            "ResourceNotFoundException",
            404,
            f"Function not found: {shown}",
        )
    created = lam.client.create_function(**create_params(role, value))
    assert created["FunctionName"] == "function"
    assert created["FunctionArn"] == arn(account, "function")


def test_a_qualifier_in_the_name_must_match_the_qualifier_parameter(lam: Lambda) -> None:
    failure = lam.fails(lam.client.get_function, FunctionName="any-fn:1", Qualifier="2")
    assert (failure.code, failure.status, failure.message) == (
        "InvalidParameterValueException",
        400,
        "The derived qualifier from the function name does not match the specified qualifier.",
    )


def test_the_checks_come_in_awss_order(lam: Lambda, role: str, account: str) -> None:
    """Name length (CreateFunction), then region, then account or qualifier, then existence."""
    elsewhere = arn(account, "a" * 65, region="eu-west-1")
    failure = lam.fails(lam.client.create_function, **create_params(role, elsewhere))
    assert failure.code == "InvalidParameterValueException"
    theirs_elsewhere = arn("999999999999", "theirs", region="eu-west-1")
    failure = lam.fails(lam.client.create_function, **create_params(role, theirs_elsewhere))
    assert failure.message == (
        "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
    )
    qualified_elsewhere = arn(account, "absent-fn", region="eu-west-1") + ":1"
    failure = lam.fails(lam.client.get_function, FunctionName=qualified_elsewhere, Qualifier="2")
    assert failure.message == (
        "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
    )
    failure = lam.fails(lam.client.invoke, FunctionName="absent-fn:1", Qualifier="2")
    assert failure.code == "InvalidParameterValueException"


# The ARN each operation's not-found message shows (AWS-BEHAVIOURS §1.7).
NOT_FOUND: list[tuple[str, dict[str, Any], str]] = [
    ("get_function", {}, ""),
    ("get_function", {"Qualifier": "7"}, ":7"),
    ("get_function", {"Qualifier": "prod"}, ":prod"),
    ("get_function_configuration", {}, ""),
    ("get_function_configuration", {"Qualifier": "7"}, ":7"),
    ("delete_function", {}, ""),
    ("delete_function", {"Qualifier": "7"}, ""),
    ("invoke", {}, ":$LATEST"),
    ("invoke", {"Qualifier": "7"}, ":7"),
    ("invoke", {"InvocationType": "Event"}, ":$LATEST"),
    ("invoke", {"InvocationType": "DryRun"}, ":$LATEST"),
    ("put_function_concurrency", {"ReservedConcurrentExecutions": 1}, ":$LATEST"),
    ("get_function_concurrency", {}, ""),
    (
        "add_permission",
        {"StatementId": "s", "Action": "lambda:InvokeFunction", "Principal": "*"},
        "",
    ),
    (
        "add_permission",
        {"StatementId": "s", "Action": "lambda:InvokeFunction", "Principal": "*", "Qualifier": "7"},
        "",
    ),
]


@pytest.mark.parametrize(("operation", "params", "suffix"), NOT_FOUND)
def test_not_found_names_the_arn_each_operation_shows(
    lam: Lambda, account: str, operation: str, params: dict[str, Any], suffix: str
) -> None:
    failure = lam.fails(getattr(lam.client, operation), FunctionName="absent-fn", **params)
    assert (failure.code, failure.status, failure.message) == (
        "ResourceNotFoundException",
        404,
        f"Function not found: {arn(account, 'absent-fn')}{suffix}",
    )
    assert failure.body["Type"] == "User"


# Other members AWS checks against patterns with `(eusc-)?` (AWS-BEHAVIOURS §1).
DESTINATION_PATTERN = (
    r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:"
    r"((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)
TAGGABLE_PATTERN = (
    r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|"
    r"code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)"
)
LAYER_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:"
    r"\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)"
)


def test_an_event_invoke_destination_off_the_pattern_quotes_awss_pattern(lam: Lambda) -> None:
    failure = lam.fails(
        lam.client.put_function_event_invoke_config,
        FunctionName="any-fn",
        DestinationConfig={"OnFailure": {"Destination": "not-an-arn"}},
    )
    assert_validation(
        failure,
        pattern_error("not-an-arn", "destinationConfig.onFailure.destination", DESTINATION_PATTERN),
    )


def test_an_eusc_destination_passes_the_pattern(lam: Lambda, account: str) -> None:
    destination = f"arn:aws:sqs:eusc-de-east-1:{account}:dlq"
    failure = lam.fails(
        lam.client.put_function_event_invoke_config,
        FunctionName="absent-fn",
        DestinationConfig={"OnFailure": {"Destination": destination}},
    )
    assert (failure.code, failure.status) == ("ResourceNotFoundException", 404)


def test_a_tagged_resource_off_the_pattern_quotes_awss_pattern(lam: Lambda, account: str) -> None:
    value = f"arn:aws:lambda:{REGION}:{account}:thing:x"
    failure = lam.fails(lam.client.tag_resource, Resource=value, Tags={"k": "v"})
    assert_validation(failure, pattern_error(value, "resource", TAGGABLE_PATTERN))


def test_a_layer_version_arn_off_the_pattern_quotes_awss_pattern(lam: Lambda) -> None:
    value = "arn:aws:lambda:us-east-1:123456789012:layer:deps"
    failure = lam.fails(lam.client.get_layer_version_by_arn, Arn=value)
    assert_validation(failure, pattern_error(value, "arn", LAYER_PATTERN))


def test_a_functions_layers_off_the_pattern_are_reported_as_one_list(
    lam: Lambda, role: str
) -> None:
    value = "arn:aws:lambda:us-east-1:123456789012:layer:deps"
    failure = lam.fails(
        lam.client.create_function, **create_params(role, "layered", Layers=[value])
    )
    assert_validation(
        failure,
        f"1 validation error detected: Value '[{value}]' at 'layers' failed to satisfy "
        "constraint: Member must satisfy constraint: [Member must have length less than or "
        "equal to 2048, Member must have length greater than or equal to 1, Member must "
        f"satisfy regular expression pattern: {LAYER_PATTERN}, Member must not be null]",
    )
