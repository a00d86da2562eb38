"""The environment variables Lambda defines, per runtime, and how function variables merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambent.errors import InvalidParameterValue
from lambent.runtimes.environment import (
    RESERVED_KEYS,
    RoleCredentials,
    check_reserved,
    instance_environment,
    version_environment,
)
from lambent.sandbox.interface import RuntimeLaunch

IMAGE = Path("/images/python3.11")  # any runtime image: it is what puts /var/lang first
PY311 = RuntimeLaunch(
    "python3.11", "python", (), "/var/lang/bin/python3.11", IMAGE, "AWS_Lambda_python3.11"
)
PY312 = RuntimeLaunch(
    "python3.12", "python", (), "/var/lang/bin/python3.12", IMAGE, "AWS_Lambda_python3.12"
)
NODE22 = RuntimeLaunch("nodejs22.x", "node", (), "/usr/bin/node", None, "AWS_Lambda_nodejs22.x")
PROVIDED = RuntimeLaunch("provided.al2023", "provided", ("/var/task/bootstrap",), None, None, "")

LD_TAIL = "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"


def _env(launch: RuntimeLaunch, **kwargs: object) -> dict[str, str]:
    args: dict[str, object] = {
        "launch": launch,
        "function_name": "my-fn",
        "version": "7",
        "memory_mb": 256,
        "handler": "app.handler",
        "region": "eu-west-1",
    }
    args.update(kwargs)
    return version_environment(**args)  # type: ignore[arg-type]


def test_python311_variables_are_awss() -> None:
    assert _env(PY311) == {
        "AWS_LAMBDA_FUNCTION_NAME": "my-fn",
        "AWS_LAMBDA_FUNCTION_VERSION": "7",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/my-fn",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "_HANDLER": "app.handler",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LD_LIBRARY_PATH": f"/var/lang/lib:{LD_TAIL}",
        "PYTHONPATH": "/var/runtime",
    }


def test_an_imaged_runtime_puts_var_lang_first_as_aws_does() -> None:
    env = _env(PY312)
    assert env["PATH"] == "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"
    assert env["LD_LIBRARY_PATH"] == f"/var/lang/lib:{LD_TAIL}"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    # a runtime without an image (the system node today) has no /var/lang to put first
    assert _env(NODE22, handler="index.handler")["PATH"] == "/usr/local/bin:/usr/bin/:/bin:/opt/bin"


def test_node_path_names_the_node_major() -> None:
    env = _env(NODE22, handler="index.handler")
    assert env["NODE_PATH"] == (
        "/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:"
        "/var/runtime/node_modules:/var/runtime:/var/task"
    )
    assert "PYTHONPATH" not in env
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs22.x"


def test_provided_has_no_execution_env_and_optional_handler() -> None:
    env = _env(PROVIDED, handler="")
    assert "AWS_EXECUTION_ENV" not in env
    assert "_HANDLER" not in env
    assert "PYTHONPATH" not in env and "NODE_PATH" not in env
    assert _env(PROVIDED, handler="function.handler")["_HANDLER"] == "function.handler"


def test_function_variables_extend_but_never_replace_reserved_ones() -> None:
    env = _env(
        PY311,
        function_variables={
            "TABLE": "orders",
            "PATH": "/var/task/bin:/usr/bin",
            "TZ": "Europe/Paris",
            "LANG": "C.UTF-8",
            "AWS_REGION": "us-east-1",
            "_HANDLER": "evil.handler",
        },
    )
    assert env["TABLE"] == "orders"
    assert (env["PATH"], env["TZ"], env["LANG"]) == (
        "/var/task/bin:/usr/bin",
        "Europe/Paris",
        "C.UTF-8",
    )
    assert (env["AWS_REGION"], env["_HANDLER"]) == ("eu-west-1", "app.handler")


def test_reserved_keys_are_rejected_with_awss_message() -> None:
    check_reserved({"TABLE": "x", "PATH": "/bin", "TZ": "UTC", "PYTHONPATH": "/x"})
    with pytest.raises(InvalidParameterValue) as err:
        check_reserved({"AWS_REGION": "x", "TABLE": "y", "AWS_ACCESS_KEY_ID": "z"})
    assert err.value.message == (
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided contains reserved keys that are currently not supported "
        "for modification. Reserved keys used in this request: AWS_ACCESS_KEY_ID, AWS_REGION"
    )
    assert len(RESERVED_KEYS) == 18


@pytest.mark.parametrize(
    ("log_format", "level", "expected"),
    [
        ("Text", None, None),
        ("Text", "DEBUG", None),
        ("JSON", None, ("JSON", "INFO")),
        ("JSON", "debug", ("JSON", "DEBUG")),
        ("JSON", "bogus", ("JSON", "INFO")),
    ],
)
def test_json_log_format_sets_format_and_level(
    log_format: str, level: str | None, expected: tuple[str, str] | None
) -> None:
    env = _env(PY311, log_format=log_format, application_log_level=level)
    got = (env["AWS_LAMBDA_LOG_FORMAT"], env["AWS_LAMBDA_LOG_LEVEL"]) if expected else None
    assert got == expected
    if expected is None:
        assert "AWS_LAMBDA_LOG_FORMAT" not in env and "AWS_LAMBDA_LOG_LEVEL" not in env


def test_initialization_type_and_log_group_override() -> None:
    env = _env(PY311, initialization_type="snap-start", log_group="/custom/group")
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "snap-start"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/custom/group"


def test_instance_environment() -> None:
    assert instance_environment(log_stream_name="2024/01/01/[7]abc") == {
        "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[7]abc"
    }
    creds = RoleCredentials("ASIAXYZ", "secret", "token")
    assert instance_environment(log_stream_name="s", credentials=creds) == {
        "AWS_LAMBDA_LOG_STREAM_NAME": "s",
        "AWS_ACCESS_KEY_ID": "ASIAXYZ",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
    }


def test_the_sdks_endpoint_is_lambents_unless_the_function_says_otherwise() -> None:
    default = _env(PY311, endpoint_url="http://169.254.100.1:9000")
    assert default["AWS_ENDPOINT_URL"] == "http://169.254.100.1:9000"
    own = _env(
        PY311,
        endpoint_url="http://169.254.100.1:9000",
        function_variables={"AWS_ENDPOINT_URL": "http://elsewhere:4566"},
    )
    assert own["AWS_ENDPOINT_URL"] == "http://elsewhere:4566"
    assert "AWS_ENDPOINT_URL" not in _env(PY311)  # Lambda's own set has no such variable
