"""A boto3 Lambda client that keeps each answer's raw body, for tests that check AWS's
error answers on the wire (code, status, message, and whether the body has a `Type`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess

WAIT = {"Delay": 1, "MaxAttempts": 60}
REGION = "us-east-1"


@dataclass(frozen=True)
class Failure:
    code: str
    status: int
    message: str
    body: dict[str, Any]


class Lambda:
    """A boto3 Lambda client that keeps the raw body of each answer."""

    def __init__(self, server: ServerProcess, *, client_checks: bool = True) -> None:
        """`client_checks=False`: botocore sends values its own checks would stop (a
        negative weight), so the server's answer to them can be seen."""
        if client_checks:
            self.client: Any = server.client("lambda", region_name=REGION)
        else:
            key, secret = server.credentials()
            self.client = boto3.client(
                "lambda",
                endpoint_url=server.endpoint,
                region_name=REGION,
                aws_access_key_id=key,
                aws_secret_access_key=secret,
                config=Config(parameter_validation=False, retries={"max_attempts": 0}),
            )
        self.raw = b""
        self.client.meta.events.register("before-parse.lambda.*", self._keep)

    def _keep(self, response_dict: dict[str, Any], **_: Any) -> None:
        body = response_dict.get("body")
        self.raw = body if isinstance(body, bytes) else b""

    def fails(self, call: Callable[..., Any], **params: Any) -> Failure:
        with pytest.raises(ClientError) as exc:
            call(**params)
        resp = exc.value.response
        body: dict[str, Any] = json.loads(self.raw) if self.raw else {}
        return Failure(
            resp["Error"]["Code"],
            resp["ResponseMetadata"]["HTTPStatusCode"],
            resp["Error"].get("Message", ""),
            body,
        )


def arn(account: str, name: str, region: str = REGION) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def create_params(role: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": role,
        "Handler": "app.handler",
        "Code": {"ZipFile": python_zip("def handler(event, context):\n    return event\n")},
        **extra,
    }


def create(lam: Lambda, role: str, name: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = lam.client.create_function(**create_params(role, name, **extra))
    lam.client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=WAIT)
    return out
