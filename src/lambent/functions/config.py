"""Checking a function's settings the way Lambda does, and writing its FunctionConfiguration.

The service model already enforced types, enums, patterns and the model's ranges before a
handler runs. What is left here are the rules the model does not carry (Lambda's own
limits, which are tighter than the model's for memory and timeout), with AWS's messages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from lambent.errors import InvalidParameterValue, ValidationError
from lambent.functions import runtimes

DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128
DEFAULT_EPHEMERAL = 512
MAX_MEMORY = 10240
MAX_TIMEOUT = 900
MAX_ENV_BYTES = 4096
MAX_LAYERS = 5
MAX_NAME = 64
MAX_TAGS = 50
SNAPSTART_RUNTIMES = frozenset({"python3.12", "python3.13", "python3.14", "java11", "java17"})


def timestamp(epoch: float) -> str:
    """AWS's LastModified format: 2024-01-01T00:00:00.000+0000."""
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _one_error(value: Any, path: str, constraint: str) -> ValidationError:
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy "
        f"constraint: {constraint}"
    )


def check_name(name: str) -> None:
    """The model allows 140 characters for a name or ARN; a function's own name is at most
    64, which AWS answers as an invalid parameter (it quotes the model's wording)."""
    if len(name) > MAX_NAME:
        raise InvalidParameterValue(
            f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_NAME}"
        )


def check_limits(params: dict[str, Any]) -> None:
    """Lambda's limits that are tighter than the service model's."""
    memory = params.get("MemorySize")
    if memory is not None and memory > MAX_MEMORY:
        raise _one_error(
            memory, "memorySize", f"Member must have value less than or equal to {MAX_MEMORY}"
        )
    timeout = params.get("Timeout")
    if timeout is not None and timeout > MAX_TIMEOUT:
        raise _one_error(
            timeout, "timeout", f"Member must have value less than or equal to {MAX_TIMEOUT}"
        )
    architectures = params.get("Architectures")
    if architectures is not None and len(architectures) != 1:
        raise _one_error(
            f"[{', '.join(architectures)}]",
            "architectures",
            "Member must have length less than or equal to 1",
        )
    env = params.get("Environment")
    if env is not None:
        check_environment(env.get("Variables") or {})


def check_environment(variables: dict[str, str]) -> None:
    from lambent.runtimes.environment import check_reserved

    check_reserved(variables)
    measured = json.dumps(variables, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode()) > MAX_ENV_BYTES:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided exceeded the 4KB limit. "
            f"String measured: {measured}"
        )


def check_handler(runtime: str | None, handler: str | None) -> None:
    """Both are required for a zip (a custom runtime needs no handler); whether the runtime
    is one Lambent runs is checked later, after the zip (runtimes.runtime_error)."""
    if not runtime or (not handler and not runtimes.is_custom(runtime)):
        raise InvalidParameterValue(
            "Runtime and Handler are mandatory parameters for functions created with "
            "deployment packages."
        )


def check_snapstart(snapstart: dict[str, Any] | None, runtime: str) -> None:
    applies = bool(snapstart) and (snapstart or {}).get("ApplyOn") == "PublishedVersions"
    if applies and runtime not in SNAPSTART_RUNTIMES:
        raise InvalidParameterValue(f"{runtime} is not supported for SnapStart enabled functions.")


def check_tags(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise InvalidParameterValue("Number of tags exceeds resource tag limit.")
    for key in tags:
        if key.lower().startswith("aws:"):
            raise InvalidParameterValue(
                "An error occurred and the request cannot be processed. "
                "Tag keys cannot start with 'aws:'."
            )


def check_package(params: dict[str, Any]) -> None:
    if params.get("PackageType") == "Image" or params.get("Code", {}).get("ImageUri"):
        raise InvalidParameterValue(
            "Lambent supports .zip file archive deployment packages only; PackageType Image "
            "is not supported."
        )


def base_configuration(
    *,
    name: str,
    arn: str,
    params: dict[str, Any],
    region: str,
    now: float,
    revision_id: str,
) -> dict[str, Any]:
    """$LATEST's FunctionConfiguration for a CreateFunction request (without code fields)."""
    cfg: dict[str, Any] = {
        "FunctionName": name,
        "FunctionArn": arn,
        "Runtime": params.get("Runtime"),
        "Role": params["Role"],
        "Handler": params.get("Handler"),
        "Description": params.get("Description", ""),
        "Timeout": params.get("Timeout", DEFAULT_TIMEOUT),
        "MemorySize": params.get("MemorySize", DEFAULT_MEMORY),
        "LastModified": timestamp(now),
        "Version": "$LATEST",
        "TracingConfig": {"Mode": (params.get("TracingConfig") or {}).get("Mode", "PassThrough")},
        "RevisionId": revision_id,
        "PackageType": "Zip",
        "Architectures": list(params.get("Architectures") or ["x86_64"]),
        "EphemeralStorage": {
            "Size": (params.get("EphemeralStorage") or {}).get("Size", DEFAULT_EPHEMERAL)
        },
        "SnapStart": snapstart_response(params.get("SnapStart"), published=False),
        "RuntimeVersionConfig": runtime_version(region, str(params.get("Runtime"))),
        "LoggingConfig": logging_config(params.get("LoggingConfig"), name),
    }
    if cfg["Handler"] is None:
        del cfg["Handler"]
    _optional(cfg, params)
    return cfg


def _optional(cfg: dict[str, Any], params: dict[str, Any]) -> None:
    env = params.get("Environment")
    if env is not None:
        cfg["Environment"] = {"Variables": dict(env.get("Variables") or {})}
    if params.get("KMSKeyArn"):
        cfg["KMSKeyArn"] = params["KMSKeyArn"]
    if params.get("DeadLetterConfig") is not None:
        cfg["DeadLetterConfig"] = dict(params["DeadLetterConfig"])
    vpc = params.get("VpcConfig")
    if vpc is not None:
        cfg["VpcConfig"] = {
            "SubnetIds": list(vpc.get("SubnetIds") or []),
            "SecurityGroupIds": list(vpc.get("SecurityGroupIds") or []),
            "VpcId": "",
        }
    if params.get("FileSystemConfigs"):
        cfg["FileSystemConfigs"] = list(params["FileSystemConfigs"])


def apply_update(cfg: dict[str, Any], params: dict[str, Any], region: str) -> None:
    """UpdateFunctionConfiguration: each given member replaces the stored one."""
    for key in ("Role", "Handler", "Description", "Timeout", "MemorySize", "Runtime"):
        if key in params:
            cfg[key] = params[key]
    if "Runtime" in params:
        cfg["RuntimeVersionConfig"] = runtime_version(region, str(params["Runtime"]))
    if "TracingConfig" in params:
        cfg["TracingConfig"] = {"Mode": params["TracingConfig"].get("Mode", "PassThrough")}
    if "EphemeralStorage" in params:
        cfg["EphemeralStorage"] = {"Size": params["EphemeralStorage"]["Size"]}
    if "SnapStart" in params:
        cfg["SnapStart"] = snapstart_response(params["SnapStart"], published=False)
    if "LoggingConfig" in params:
        given = params["LoggingConfig"]
        stored = dict(cfg.get("LoggingConfig", {}))
        if given.get("LogFormat", stored.get("LogFormat")) != "JSON":
            # Back to Text: the stored levels go (they only exist in the JSON format).
            stored.pop("ApplicationLogLevel", None)
            stored.pop("SystemLogLevel", None)
        cfg["LoggingConfig"] = logging_config({**stored, **given}, str(cfg["FunctionName"]))
    for key in ("Environment", "KMSKeyArn", "DeadLetterConfig", "VpcConfig", "FileSystemConfigs"):
        if key in params:
            cfg.pop(key, None)
    _optional(cfg, params)


def snapstart_response(snapstart: dict[str, Any] | None, *, published: bool) -> dict[str, str]:
    apply_on = (snapstart or {}).get("ApplyOn", "None")
    on = published and apply_on == "PublishedVersions"
    return {"ApplyOn": apply_on, "OptimizationStatus": "On" if on else "Off"}


LOG_LEVEL_NEEDS_JSON = (
    'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your '
    'request or change the LogFormat to "Json" and try again.'
)


def logging_config(given: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """LoggingConfig as AWS answers it: levels (INFO by default) only in the JSON format,
    where asking for a level with the Text format is refused."""
    given = dict(given or {})
    has_level = "ApplicationLogLevel" in given or "SystemLogLevel" in given
    if has_level and given.get("LogFormat", "Text") != "JSON":
        raise InvalidParameterValue(LOG_LEVEL_NEEDS_JSON)
    out: dict[str, Any] = {
        "LogFormat": given.get("LogFormat", "Text"),
        "LogGroup": given.get("LogGroup", f"/aws/lambda/{name}"),
    }
    if out["LogFormat"] == "JSON":
        out["ApplicationLogLevel"] = given.get("ApplicationLogLevel", "INFO")
        out["SystemLogLevel"] = given.get("SystemLogLevel", "INFO")
    return out


def runtime_version(region: str, runtime: str) -> dict[str, str]:
    return {"RuntimeVersionArn": runtimes.runtime_version_arn(region, runtime)}


# Fields that do not make a configuration different for PublishVersion's "nothing changed".
VOLATILE = frozenset(
    {
        "FunctionArn",
        "LastModified",
        "RevisionId",
        "Version",
        "State",
        "StateReason",
        "StateReasonCode",
        "LastUpdateStatus",
        "LastUpdateStatusReason",
        "LastUpdateStatusReasonCode",
        "Description",
        "SnapStart",
        "_SnapshotPending",
    }
)


def publish_mark(text: str) -> str:
    """What `last_published` keeps of $LATEST: a digest, since the fingerprint is the whole
    configuration, environment variables included, which must not sit in the store in the
    clear. (A data dir from before kept the text itself; the repository digests it at start.)"""
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return text  # already a digest
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(cfg: dict[str, Any]) -> str:
    stable = {k: v for k, v in cfg.items() if k not in VOLATILE}
    stable["_apply_on"] = cfg.get("SnapStart", {}).get("ApplyOn")
    return json.dumps(stable, sort_keys=True, separators=(",", ":"))
