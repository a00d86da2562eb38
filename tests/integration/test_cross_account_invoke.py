"""Invoking another account's function by ARN (issue 8 §1.14): AccessDeniedException with
AWS's text unless the function's resource-based policy allows the caller; then it runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.integration.test_accounts import new_account
from tests.support import ServerProcess, lambda_role

APP = "def handler(event, context):\n    return {'arn': context.invoked_function_arn}\n"


@pytest.fixture(scope="module")
def owner(server: ServerProcess) -> Any:
    lam = server.client("lambda")
    lam.create_function(
        FunctionName="shared-fn",
        Runtime="python3.12",
        Role=lambda_role(server, "shared-fn"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
        Publish=True,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="shared-fn")
    lam.create_alias(FunctionName="shared-fn", Name="live", FunctionVersion="1")
    return lam


@pytest.fixture(scope="module")
def other(server: ServerProcess) -> tuple[str, Any, str]:
    """(account B, its Lambda client, its caller ARN)."""
    account, keys = new_account(server)
    arn = server.client("sts", keys=keys).get_caller_identity()["Arn"]
    return account, server.client("lambda", keys=keys), str(arn)


def denied_message(caller: str, resource: str) -> str:
    return (
        f"User: {caller} is not authorized to perform: lambda:InvokeFunction on resource: "
        f"{resource} because no resource-based policy allows the lambda:InvokeFunction action"
    )


def refused(lam: Any, **kwargs: Any) -> tuple[int, str, str, dict[str, Any]]:
    with pytest.raises(ClientError) as err:
        lam.invoke(Payload=b"{}", **kwargs)
    resp: dict[str, Any] = dict(err.value.response)
    return (
        int(resp["ResponseMetadata"]["HTTPStatusCode"]),
        str(resp["Error"]["Code"]),
        str(resp["Error"]["Message"]),
        resp,
    )


def test_without_a_policy_the_caller_is_denied(owner: Any, other: tuple[str, Any, str]) -> None:
    _, lam_b, caller = other
    arn = owner.get_function(FunctionName="shared-fn")["Configuration"]["FunctionArn"]
    status, code, message, resp = refused(lam_b, FunctionName=arn)
    assert (status, code) == (403, "AccessDeniedException")
    assert message == denied_message(caller, arn)
    assert "Type" not in resp
    # Whether it exists or not is not the caller's to learn.
    ghost = arn.replace(":shared-fn", ":no-such-fn")
    assert refused(lam_b, FunctionName=ghost)[2] == denied_message(caller, ghost)
    # Async alike, and nothing of it runs.
    assert refused(lam_b, FunctionName=arn, InvocationType="Event")[1] == "AccessDeniedException"


def test_a_policy_that_allows_the_account_lets_it_invoke(
    owner: Any, other: tuple[str, Any, str]
) -> None:
    account_b, lam_b, caller = other
    arn = owner.get_function(FunctionName="shared-fn")["Configuration"]["FunctionArn"]
    owner.add_permission(
        FunctionName="shared-fn",
        Qualifier="live",
        StatementId="account-b",
        Action="lambda:InvokeFunction",
        Principal=account_b,
    )
    out = lam_b.invoke(FunctionName=f"{arn}:live", Payload=b"{}")
    assert out["StatusCode"] == 200
    assert json.loads(out["Payload"].read()) == {"arn": f"{arn}:live"}
    # The alias's policy does not open the unqualified function.
    assert refused(lam_b, FunctionName=arn)[2] == denied_message(caller, arn)
    owner.add_permission(
        FunctionName="shared-fn",
        StatementId="account-b-all",
        Action="lambda:InvokeFunction",
        Principal=f"arn:aws:iam::{account_b}:root",
    )
    assert lam_b.invoke(FunctionName=arn, Payload=b"{}")["StatusCode"] == 200
    assert (
        lam_b.invoke(FunctionName=arn, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    )
