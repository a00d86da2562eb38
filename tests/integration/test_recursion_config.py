"""PutFunctionRecursionConfig / GetFunctionRecursionConfig through real boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


@pytest.fixture(scope="module")
def fn(server: ServerProcess, lam: Any) -> str:
    lam.create_function(
        FunctionName="loop-config",
        Runtime="python3.12",
        Role=lambda_role(server, "loop-config"),
        Handler="app.handler",
        Code={"ZipFile": python_zip("def handler(e, c):\n    return e\n")},
    )
    return "loop-config"


def test_a_function_terminates_recursive_loops_by_default(lam: Any, fn: str) -> None:
    assert lam.get_function_recursion_config(FunctionName=fn)["RecursiveLoop"] == "Terminate"


def test_the_recursion_config_is_stored_and_answered(lam: Any, fn: str) -> None:
    put = lam.put_function_recursion_config(FunctionName=fn, RecursiveLoop="Allow")
    assert put["RecursiveLoop"] == "Allow"
    assert lam.get_function_recursion_config(FunctionName=fn)["RecursiveLoop"] == "Allow"
    lam.put_function_recursion_config(FunctionName=fn, RecursiveLoop="Terminate")
    assert lam.get_function_recursion_config(FunctionName=fn)["RecursiveLoop"] == "Terminate"


def test_the_recursion_config_of_a_missing_function_is_not_found(lam: Any, fn: str) -> None:
    account = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"].split(":")[4]
    with pytest.raises(ClientError) as exc:
        lam.get_function_recursion_config(FunctionName="loop-nobody")
    err = exc.value.response["Error"]
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] == (
        f"Function not found: arn:aws:lambda:us-east-1:{account}:function:loop-nobody"
    )


def test_an_unknown_value_lists_awss_values_in_awss_order(lam: Any, fn: str) -> None:
    with pytest.raises(ClientError) as exc:
        lam.put_function_recursion_config(FunctionName=fn, RecursiveLoop="Sometimes")
    err = exc.value.response["Error"]
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "1 validation error detected: Value 'Sometimes' at 'recursiveLoop' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Terminate, Allow]"
    )
