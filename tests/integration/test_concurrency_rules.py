"""AWS's concurrency rules and their exact answers (issue 8 §2, AWS-BEHAVIOURS §6),
through boto3 against a real server: the messages of PutFunctionConcurrency and
PutProvisionedConcurrencyConfig, and reserved concurrency equal to the provisioned total."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role

APP = "def handler(event, context):\n    return {'ok': True}\n"
ACCOUNT_LIMIT = 1000  # the server's default --account-concurrency
MINIMUM = 100


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


def make(server: ServerProcess, lam: Any, name: str) -> str:
    role = lambda_role(server, "concurrency-rules")
    arn = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP, module="app")},
        Publish=True,
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, Qualifier="1")
    return str(arn)


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


def test_reserved_concurrency_below_the_unreserved_minimum(server: ServerProcess, lam: Any) -> None:
    make(server, lam, "cr-min")
    status, code, message, resp = failure(
        lam.put_function_concurrency,
        FunctionName="cr-min",
        ReservedConcurrentExecutions=ACCOUNT_LIMIT - MINIMUM + 1,
    )
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message == (
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100]."
    )
    assert "Type" not in resp


def test_provisioned_concurrency_over_the_unreserved_pool(server: ServerProcess, lam: Any) -> None:
    make(server, lam, "cr-pool")
    status, code, message, resp = failure(
        lam.put_provisioned_concurrency_config,
        FunctionName="cr-pool",
        Qualifier="1",
        ProvisionedConcurrentExecutions=ACCOUNT_LIMIT + 1,
    )
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message == (
        "Specified ConcurrentExecutions for function is greater than account's unreserved "
        f"concurrency [{ACCOUNT_LIMIT}]."
    )
    assert "Type" not in resp


def test_provisioned_concurrency_below_the_unreserved_minimum(
    server: ServerProcess, lam: Any
) -> None:
    make(server, lam, "cr-pmin")
    status, code, message, resp = failure(
        lam.put_provisioned_concurrency_config,
        FunctionName="cr-pmin",
        Qualifier="1",
        ProvisionedConcurrentExecutions=ACCOUNT_LIMIT - MINIMUM + 1,
    )
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message == (
        "Specified ConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100]."
    )
    assert "Type" not in resp


def test_provisioned_concurrency_of_a_missing_function(server: ServerProcess, lam: Any) -> None:
    arn = make(server, lam, "cr-arn").replace(":cr-arn", ":cr-ghost")
    status, code, message, _ = failure(
        lam.put_provisioned_concurrency_config,
        FunctionName="cr-ghost",
        Qualifier="live",
        ProvisionedConcurrentExecutions=1,
    )
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"Cannot find alias arn: {arn}:live"
    status, code, message, _ = failure(
        lam.put_provisioned_concurrency_config,
        FunctionName="cr-ghost",
        Qualifier="1",
        ProvisionedConcurrentExecutions=1,
    )
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: {arn}:1"


def test_reserved_below_total_provisioned(server: ServerProcess, lam: Any) -> None:
    make(server, lam, "cr-below")
    lam.put_provisioned_concurrency_config(
        FunctionName="cr-below", Qualifier="1", ProvisionedConcurrentExecutions=2
    )
    status, code, message, resp = failure(
        lam.put_function_concurrency, FunctionName="cr-below", ReservedConcurrentExecutions=1
    )
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message == (
        " ReservedConcurrentExecutions  1 should not be lower than function's total "
        "provisioned concurrency [2]."
    )
    assert "Type" not in resp


def test_reserved_equal_to_provisioned_throttles_other_qualifiers(
    server: ServerProcess, lam: Any
) -> None:
    """All of the reservation is committed to version 1's provisioned concurrency: $LATEST
    is throttled at once, version 1 still runs."""
    make(server, lam, "cr-equal")
    lam.put_provisioned_concurrency_config(
        FunctionName="cr-equal", Qualifier="1", ProvisionedConcurrentExecutions=1
    )
    lam.put_function_concurrency(FunctionName="cr-equal", ReservedConcurrentExecutions=1)
    status, code, message, resp = failure(lam.invoke, FunctionName="cr-equal", Payload=b"{}")
    assert (status, code, message) == (429, "TooManyRequestsException", "Rate Exceeded.")
    assert resp["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    ran = lam.invoke(FunctionName="cr-equal", Qualifier="1", Payload=b"{}")
    assert (ran["StatusCode"], ran["Payload"].read()) == (200, b'{"ok": true}')
    # Freed from the commitment, $LATEST runs again.
    lam.put_function_concurrency(FunctionName="cr-equal", ReservedConcurrentExecutions=2)
    assert lam.invoke(FunctionName="cr-equal", Payload=b"{}")["StatusCode"] == 200
