"""The `context` object a Python handler receives, shaped as AWS's Python runtime shapes it.

Attribute names, types and absent-value behaviour follow the official runtime: values from
the environment are strings exactly as Lambda set them (so `memory_limit_in_mb` is "128",
not 128, as on AWS), `identity` always exists (its fields None without Cognito), and
`client_context` is None unless the invoke carried one.
"""

from __future__ import annotations

import json
import sys
import time

from .faults import CONTEXT_UNMARSHAL_ERROR, FaultError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


class FunctionInfo:
    """The per-environment values every context repeats (read once, not per invoke)."""

    __slots__ = (
        "function_name",
        "function_version",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
    )

    def __init__(
        self,
        function_name: str | None,
        function_version: str | None,
        memory_limit_in_mb: str | None,
        log_group_name: str | None,
        log_stream_name: str | None,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.memory_limit_in_mb = memory_limit_in_mb
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> FunctionInfo:
        return cls(
            function_name=environ.get("AWS_LAMBDA_FUNCTION_NAME"),
            function_version=environ.get("AWS_LAMBDA_FUNCTION_VERSION"),
            memory_limit_in_mb=environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
            log_group_name=environ.get("AWS_LAMBDA_LOG_GROUP_NAME"),
            log_stream_name=environ.get("AWS_LAMBDA_LOG_STREAM_NAME"),
        )


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity: Mapping[str, Any] | None = None) -> None:
        identity = identity or {}
        self.cognito_identity_id = identity.get("cognitoIdentityId")
        self.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, client: Mapping[str, Any]) -> None:
        self.installation_id = client.get("installation_id")
        self.app_title = client.get("app_title")
        self.app_version_name = client.get("app_version_name")
        self.app_version_code = client.get("app_version_code")
        self.app_package_name = client.get("app_package_name")

    def __repr__(self) -> str:
        return (
            f"Client([installation_id={self.installation_id},app_title={self.app_title},"
            f"app_version_name={self.app_version_name},"
            f"app_version_code={self.app_version_code},"
            f"app_package_name={self.app_package_name}])"
        )


class ClientContext:
    __slots__ = ("client", "custom", "env")

    def __init__(self, data: Mapping[str, Any]) -> None:
        client = data.get("client")
        self.client: Client | None = Client(client) if isinstance(client, dict) else None
        self.custom: Any = data.get("custom")
        self.env: Any = data.get("env")

    def __repr__(self) -> str:
        return f"ClientContext([custom={self.custom},env={self.env},client={self.client}])"


class LambdaContext:
    """What `handler(event, context)` gets as `context`."""

    def __init__(
        self,
        info: FunctionInfo,
        request_id: str,
        deadline_ms: int,
        invoked_function_arn: str | None,
        client_context: ClientContext | None,
        identity: CognitoIdentity,
    ) -> None:
        self.aws_request_id = request_id
        self.log_group_name = info.log_group_name
        self.log_stream_name = info.log_stream_name
        self.function_name = info.function_name
        self.memory_limit_in_mb = info.memory_limit_in_mb
        self.function_version = info.function_version
        self.invoked_function_arn = invoked_function_arn
        self.client_context = client_context
        self.identity = identity
        self._epoch_deadline_time_in_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        delta = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta if delta > 0 else 0

    def log(self, msg: object) -> None:
        """Write to the function's log without a newline, as AWS's `context.log` does."""
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            "LambdaContext(["
            f"aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity}"
            "])"
        )


def _parse_json_header(value: str, name: str) -> Any:
    try:
        return json.loads(value)
    except Exception as exc:
        raise FaultError(
            CONTEXT_UNMARSHAL_ERROR, f"Unable to parse {name} JSON: {exc}", None
        ) from None


def make_context(
    info: FunctionInfo,
    request_id: str,
    deadline_ms: int,
    invoked_function_arn: str | None,
    client_context_json: str | None,
    cognito_identity_json: str | None,
) -> LambdaContext:
    """Build the context; malformed JSON headers are a Runtime.LambdaContextUnmarshalError."""
    client_context = None
    if client_context_json:
        data = _parse_json_header(client_context_json, "Client Context")
        if data is not None:
            client_context = ClientContext(data)
    identity = CognitoIdentity()
    if cognito_identity_json:
        data = _parse_json_header(cognito_identity_json, "Cognito Identity")
        if data is not None:
            identity = CognitoIdentity(data)
    return LambdaContext(
        info, request_id, deadline_ms, invoked_function_arn, client_context, identity
    )
