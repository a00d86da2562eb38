"""Runtimes as Lambda answers them (AWS-BEHAVIOURS.md §3, and the per-runtime decisions in
docs/SPECIFICATION.md "Deprecated runtimes"), through real boto3 against a real
`lambent serve`."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "runtimes-role")


def create(lam: Any, role: str, name: str, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": role,
        "Handler": "app.handler",
        "Code": {"ZipFile": python_zip("def handler(event, context):\n    return event\n")},
        **extra,
    }
    out: dict[str, Any] = lam.create_function(**params)
    return out


def active(lam: Any, name: str) -> dict[str, Any]:
    waiter = lam.get_waiter("function_active_v2")
    waiter.wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    out: dict[str, Any] = lam.get_function_configuration(FunctionName=name)
    return out


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    resp = caught.value.response
    return (
        resp["Error"]["Code"],
        resp["Error"]["Message"],
        resp["ResponseMetadata"]["HTTPStatusCode"],
    )


def model_runtimes() -> list[str]:
    """The Runtime enum of botocore's Lambda model, in the model's order."""
    model = botocore.session.get_session().get_service_model("lambda")
    return list(model.shape_for("Runtime").metadata["enum"])


def test_an_unknown_runtime_gets_awss_enum_message(lam: Any, role: str) -> None:
    expected = (
        "Value PYTHON3.9 at 'runtime' failed to satisfy constraint: Member must satisfy enum "
        f"value set: [{', '.join(model_runtimes())}] or be a valid ARN"
    )
    assert "python3.14" in expected and "nodejs4.3-edge" in expected
    with pytest.raises(ClientError) as caught:
        create(lam, role, "rt-runtime", Runtime="PYTHON3.9")
    assert error_of(caught) == ("InvalidParameterValueException", expected, 400)
    create(lam, role, "rt-runtime")
    active(lam, "rt-runtime")
    with pytest.raises(ClientError) as caught:
        lam.update_function_configuration(FunctionName="rt-runtime", Runtime="PYTHON3.9")
    assert error_of(caught) == ("InvalidParameterValueException", expected, 400)


def test_the_zip_is_checked_before_the_runtime(lam: Any, role: str) -> None:
    for runtime in ("PYTHON3.9", "python3.7", "python3.12"):
        with pytest.raises(ClientError) as caught:
            create(lam, role, "rt-badzip", Runtime=runtime, Code={"ZipFile": b"not a zip"})
        assert error_of(caught) == (
            "InvalidParameterValueException",
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
            400,
        )


@pytest.mark.parametrize(
    ("runtime", "newest"),
    [
        ("python3.7", "python3.14"),
        ("python3.8", "python3.14"),
        ("python3.9", "python3.14"),
        ("nodejs16.x", "nodejs24.x"),
        ("nodejs18.x", "nodejs24.x"),
    ],
)
def test_a_runtime_lambent_cannot_run_gets_awss_no_longer_supported_answer(
    lam: Any, role: str, runtime: str, newest: str
) -> None:
    with pytest.raises(ClientError) as caught:
        create(lam, role, "rt-old", Runtime=runtime)
    assert error_of(caught) == (
        "InvalidParameterValueException",
        f"The runtime parameter of {runtime} is no longer supported for creating or updating "
        f"AWS Lambda functions. We recommend you use the new runtime ({newest}) while "
        "creating or updating functions.",
        400,
    )


def test_python3_10_is_accepted_and_runs_on_a_real_3_10(lam: Any, role: str) -> None:
    """AWS accepted python3.10 at create when its behaviour was recorded; this host has a
    real 3.10 (pyenv), so Lambent runs it rather than refusing it."""
    body = (
        "import sys, boto3\n"
        "def handler(event, context):\n"
        "    return [list(sys.version_info[:2]), sys.executable, boto3.__version__]\n"
    )
    create(lam, role, "rt-py310", Runtime="python3.10", Code={"ZipFile": python_zip(body)})
    assert active(lam, "rt-py310")["Runtime"] == "python3.10"
    answer = lam.invoke(FunctionName="rt-py310", Payload=b"{}")
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == [[3, 10], "/var/lang/bin/python3.10", "1.43.11"]
