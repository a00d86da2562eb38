"""The environment variables Lambda defines inside an execution environment.

Names and values are AWS's, paths included: a runtime's image is at /var/lang as on AWS.

Two layers, as the sandbox interface has them:
  * `version_environment` - what every environment of one function version shares
    (TemplateSpec.base_env): Lambda's variables with the function's own added on top.
  * `instance_environment` - what is particular to one environment (EnvironmentSpec.env):
    its log stream and the execution role's temporary credentials.
AWS_LAMBDA_RUNTIME_API is the sandbox's to set; _X_AMZN_TRACE_ID is set per invoke by the
runtime from the Lambda-Runtime-Trace-Id header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lambent.errors import InvalidParameterValue
from lambent.runtimes.images import LANG_DIR
from lambent.runtimes.registry import OPT_DIR, RUNTIME_DIR, TASK_ROOT, spec_for
from lambent.sandbox.interface import RuntimeLaunch

# Keys a function's configuration may not set (AWS rejects them at CreateFunction and
# UpdateFunctionConfiguration). LANG, PATH, TZ, LD_LIBRARY_PATH, NODE_PATH, PYTHONPATH are
# not reserved: a function's own value replaces Lambda's.
RESERVED_KEYS: frozenset[str] = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

_PATH_TAIL = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
_LD_LIBRARY_PATH_TAIL = (
    f"/lib64:/usr/lib64:{RUNTIME_DIR}:{RUNTIME_DIR}/lib:{TASK_ROOT}:{TASK_ROOT}/lib:{OPT_DIR}/lib"
)
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


@dataclass(frozen=True)
class RoleCredentials:
    """Temporary credentials of the execution role, as STS issued them."""

    access_key_id: str
    secret_access_key: str
    session_token: str


def check_reserved(variables: Mapping[str, str]) -> None:
    """Reject a function configuration that sets reserved keys, with AWS's message."""
    used = sorted(key for key in variables if key in RESERVED_KEYS)
    if used:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided contains reserved keys that are "
            f"currently not supported for modification. Reserved keys used in this request: "
            f"{', '.join(used)}"
        )


def version_environment(
    *,
    launch: RuntimeLaunch,
    function_name: str,
    version: str,
    memory_mb: int,
    handler: str,
    region: str,
    log_group: str | None = None,
    function_variables: Mapping[str, str] | None = None,
    initialization_type: str = "on-demand",
    log_format: str = "Text",
    application_log_level: str | None = None,
    endpoint_url: str | None = None,
) -> dict[str, str]:
    """Every variable an environment of this function version starts with.

    `initialization_type` is AWS_LAMBDA_INITIALIZATION_TYPE: on-demand,
    provisioned-concurrency or snap-start. With the JSON log format Lambda also sets
    AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL (INFO unless ApplicationLogLevel says
    otherwise); the Text format sets neither.

    `endpoint_url` becomes AWS_ENDPOINT_URL, which boto3/botocore and the AWS SDK for
    JavaScript v3 read as the endpoint of every service: a function's SDK calls reach
    Lambent (its Lambda, S3, STS, IAM, CloudWatch Logs) with no setting of its own, as they
    reach AWS on Lambda. Lambda itself sets no such variable; a function that sets its own
    AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_<SERVICE>) in its Environment wins.
    """
    env: dict[str, str] = {
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": log_group or f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "LAMBDA_TASK_ROOT": TASK_ROOT,
        "LAMBDA_RUNTIME_DIR": RUNTIME_DIR,
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
    }
    if launch.execution_env:
        env["AWS_EXECUTION_ENV"] = launch.execution_env
    if launch.kind != "provided" or handler:
        env["_HANDLER"] = handler
    env.update(_search_paths(launch))
    if log_format.upper() == "JSON":
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        level = (application_log_level or "INFO").upper()
        env["AWS_LAMBDA_LOG_LEVEL"] = level if level in LOG_LEVELS else "INFO"
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    for key, value in (function_variables or {}).items():
        if key not in RESERVED_KEYS:
            env[key] = value
    return env


def instance_environment(
    *, log_stream_name: str, credentials: RoleCredentials | None = None
) -> dict[str, str]:
    """The variables particular to one execution environment."""
    env = {"AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name}
    if credentials is not None:
        env["AWS_ACCESS_KEY_ID"] = credentials.access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = credentials.secret_access_key
        env["AWS_SESSION_TOKEN"] = credentials.session_token
    return env


def _search_paths(launch: RuntimeLaunch) -> dict[str, str]:
    """PATH, LD_LIBRARY_PATH, PYTHONPATH, NODE_PATH as AWS sets them for this runtime.

    A runtime with an image has /var/lang/bin and /var/lang/lib first, as on AWS, so
    `python3` or `node` in a subprocess is the function's own.
    """
    spec = spec_for(launch.name)
    path = _PATH_TAIL
    ld_path = _LD_LIBRARY_PATH_TAIL
    if launch.image is not None:
        path = f"{LANG_DIR}/bin:{path}"
        ld_path = f"{LANG_DIR}/lib:{ld_path}"
    env = {"PATH": path, "LD_LIBRARY_PATH": ld_path}
    if spec.kind == "python":
        env["PYTHONPATH"] = RUNTIME_DIR
    elif spec.kind == "node":
        env["NODE_PATH"] = ":".join(
            (
                f"{OPT_DIR}/nodejs/node{spec.language_version}/node_modules",
                f"{OPT_DIR}/nodejs/node_modules",
                f"{RUNTIME_DIR}/node_modules",
                RUNTIME_DIR,
                TASK_ROOT,
            )
        )
    return env
