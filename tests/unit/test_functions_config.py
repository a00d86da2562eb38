from __future__ import annotations

import json
from typing import Any

import pytest

from lambent.errors import InvalidParameterValue, ValidationError
from lambent.functions import config, runtimes


def test_timestamp_is_aws_format() -> None:
    assert config.timestamp(1_700_000_000.1234) == "2023-11-14T22:13:20.123+0000"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"MemorySize": 10241},
            "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy "
            "constraint: Member must have value less than or equal to 10240",
        ),
        (
            {"Timeout": 901},
            "1 validation error detected: Value '901' at 'timeout' failed to satisfy "
            "constraint: Member must have value less than or equal to 900",
        ),
    ],
)
def test_lambda_limits_tighter_than_the_model(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        config.check_limits(params)
    assert exc.value.message == message


def test_limits_at_the_edges_pass() -> None:
    config.check_limits({"MemorySize": 10240, "Timeout": 900, "Architectures": ["arm64"]})


def test_environment_4kb_limit_message() -> None:
    variables = {"BIG": "x" * 4090}
    measured = json.dumps(variables, separators=(",", ":"))
    with pytest.raises(InvalidParameterValue) as exc:
        config.check_environment(variables)
    assert exc.value.message == (
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided exceeded the 4KB limit. String measured: " + measured
    )
    config.check_environment({"BIG": "x" * 4000})


def test_unsupported_runtime_message() -> None:
    with pytest.raises(InvalidParameterValue) as exc:
        runtimes.check_runtime("python3.9")
    assert exc.value.message.startswith(
        "The runtime parameter of python3.9 is no longer supported for creating or updating "
        "AWS Lambda functions."
    )
    for name in runtimes.SUPPORTED_RUNTIMES:
        runtimes.check_runtime(name)


def test_handler_required_except_custom_runtimes() -> None:
    with pytest.raises(InvalidParameterValue, match="Runtime and Handler are mandatory"):
        config.check_handler("python3.12", None)
    with pytest.raises(InvalidParameterValue, match="Runtime and Handler are mandatory"):
        config.check_handler(None, "h")
    config.check_handler("provided.al2023", None)


def test_image_packages_are_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="Image"):
        config.check_package({"PackageType": "Image"})


def test_snapstart_runtime_check() -> None:
    config.check_snapstart({"ApplyOn": "PublishedVersions"}, "python3.12")
    config.check_snapstart({"ApplyOn": "None"}, "nodejs20.x")
    with pytest.raises(InvalidParameterValue, match="not supported for SnapStart"):
        config.check_snapstart({"ApplyOn": "PublishedVersions"}, "nodejs20.x")


def _base(**params: Any) -> dict[str, Any]:
    merged = {"Role": "arn:aws:iam::123456789012:role/r", "Runtime": "python3.12", **params}
    return config.base_configuration(
        name="f", arn="arn", params=merged, region="us-east-1", now=0.0, revision_id="r"
    )


def test_defaults_match_lambda() -> None:
    cfg = _base(Handler="h.h")
    assert cfg["Timeout"] == 3
    assert cfg["MemorySize"] == 128
    assert cfg["EphemeralStorage"] == {"Size": 512}
    assert cfg["Architectures"] == ["x86_64"]
    assert cfg["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
    assert cfg["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/f"}
    assert cfg["TracingConfig"] == {"Mode": "PassThrough"}
    assert "Environment" not in cfg


def test_update_replaces_given_members_only() -> None:
    cfg = _base(Handler="h.h", Environment={"Variables": {"AB": "1"}})
    config.apply_update(cfg, {"MemorySize": 512, "Environment": {}}, "us-east-1")
    assert cfg["MemorySize"] == 512
    assert cfg["Environment"] == {"Variables": {}}
    assert cfg["Handler"] == "h.h"


def test_fingerprint_ignores_volatile_fields() -> None:
    a = _base(Handler="h.h")
    b = dict(a, RevisionId="other", LastModified="later", State="Pending")
    assert config.fingerprint(a) == config.fingerprint(b)
    assert config.fingerprint(a) != config.fingerprint(dict(a, MemorySize=256))


def test_json_logging_config_defaults_its_levels_to_info() -> None:
    cfg = _base(Handler="h.h", LoggingConfig={"LogFormat": "JSON", "LogGroup": "/custom/g"})
    assert cfg["LoggingConfig"] == {
        "LogFormat": "JSON",
        "LogGroup": "/custom/g",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "INFO",
    }


@pytest.mark.parametrize("key", ["ApplicationLogLevel", "SystemLogLevel"])
def test_a_log_level_needs_the_json_format(key: str) -> None:
    with pytest.raises(InvalidParameterValue) as err:
        _base(Handler="h.h", LoggingConfig={"LogFormat": "Text", key: "DEBUG"})
    assert err.value.message == config.LOG_LEVEL_NEEDS_JSON
    with pytest.raises(InvalidParameterValue):
        _base(Handler="h.h", LoggingConfig={key: "DEBUG"})  # Text is the default format


def test_update_back_to_text_drops_the_levels_and_keeps_the_group() -> None:
    cfg = _base(
        Handler="h.h",
        LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "LogGroup": "/g"},
    )
    config.apply_update(cfg, {"LoggingConfig": {"LogFormat": "Text"}}, "us-east-1")
    assert cfg["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/g"}
    with pytest.raises(InvalidParameterValue):
        config.apply_update(cfg, {"LoggingConfig": {"SystemLogLevel": "WARN"}}, "us-east-1")
    config.apply_update(
        cfg, {"LoggingConfig": {"LogFormat": "JSON", "SystemLogLevel": "WARN"}}, "us-east-1"
    )
    assert cfg["LoggingConfig"]["SystemLogLevel"] == "WARN"
    assert cfg["LoggingConfig"]["ApplicationLogLevel"] == "INFO"
