"""The Lambda operations the client commands use, as AWS's REST API defines them."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lambent.cli.client import AwsClient, Progress
from lambent.cli.errors import ApiError

API = "/2015-03-31/functions"
MAX_FUNCTION_TIMEOUT_S = 900
INVOKE_SLACK_S = 60  # answers can take the function's timeout plus init and overhead


def function_path(name: str, suffix: str = "") -> str:
    return f"{API}/{quote(name, safe='')}{suffix}"


def get_configuration(
    client: AwsClient, name: str, qualifier: str | None = None
) -> dict[str, Any] | None:
    """The configuration, or None when the function does not exist."""
    try:
        return client.lambda_json(
            "GET", function_path(name, "/configuration"), query={"Qualifier": qualifier}
        )
    except ApiError as err:
        if err.code == "ResourceNotFoundException":
            return None
        raise


def create_function(
    client: AwsClient, spec: Mapping[str, Any], zip_bytes: bytes, progress: Progress | None
) -> dict[str, Any]:
    document = {**spec, "Code": {"ZipFile": base64.b64encode(zip_bytes).decode()}}
    return client.lambda_json("POST", API, document, progress=progress)


def update_code(
    client: AwsClient, name: str, zip_bytes: bytes, *, publish: bool, progress: Progress | None
) -> dict[str, Any]:
    document = {"ZipFile": base64.b64encode(zip_bytes).decode(), "Publish": publish}
    return client.lambda_json("PUT", function_path(name, "/code"), document, progress=progress)


def update_configuration(
    client: AwsClient, name: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    return client.lambda_json("PUT", function_path(name, "/configuration"), changes)


def list_functions(client: AwsClient, page_size: int | None = None) -> Iterator[dict[str, Any]]:
    """Every function, following `NextMarker` until the last page."""
    marker: str | None = None
    while True:
        page = client.lambda_json("GET", API + "/", query={"Marker": marker, "MaxItems": page_size})
        yield from page.get("Functions") or []
        marker = page.get("NextMarker")
        if not marker:
            return


@dataclass(frozen=True)
class InvokeResult:
    payload: bytes
    function_error: str | None
    log_tail: str | None
    executed_version: str | None


def invoke(
    client: AwsClient, name: str, payload: bytes, *, qualifier: str | None, tail: bool
) -> InvokeResult:
    headers = {"x-amz-invocation-type": "RequestResponse"}
    if tail:
        headers["x-amz-log-type"] = "Tail"
    answer = client.lambda_call(
        "POST",
        function_path(name, "/invocations"),
        query={"Qualifier": qualifier},
        body=payload,
        headers=headers,
        timeout=MAX_FUNCTION_TIMEOUT_S + INVOKE_SLACK_S,
    )
    return InvokeResult(
        payload=answer.body,
        function_error=answer.headers.get("x-amz-function-error"),
        log_tail=_decode_tail(answer.headers.get("x-amz-log-result")),
        executed_version=answer.headers.get("x-amz-executed-version"),
    )


def _decode_tail(header: str | None) -> str | None:
    if not header:
        return None
    try:
        return base64.b64decode(header, validate=True).decode("utf-8", "replace")
    except ValueError:
        return header
