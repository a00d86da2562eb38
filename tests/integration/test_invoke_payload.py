"""An Invoke payload that is not UTF-8 JSON is refused before anything runs, sync and
async alike, with AWS's InvalidRequestContentException (issue 8 §1.13), through boto3."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, http_get, lambda_role

APP = "def handler(event, context):\n    return {'got': event}\n"
PREFIX = "Could not parse request body into json: Could not parse payload into json: "
VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    client = server.client("lambda")
    client.create_function(
        FunctionName="payloads",
        Runtime="python3.12",
        Role=lambda_role(server, "payloads"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
    )
    client.get_waiter("function_active_v2").wait(FunctionName="payloads")
    return client


def refused(lam: Any, payload: bytes, **kwargs: Any) -> tuple[int, str, str, dict[str, Any]]:
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName="payloads", Payload=payload, **kwargs)
    resp: dict[str, Any] = dict(err.value.response)
    return (
        int(resp["ResponseMetadata"]["HTTPStatusCode"]),
        str(resp["Error"]["Code"]),
        str(resp["Error"]["Message"]),
        resp,
    )


def queue_activity(server: ServerProcess) -> int:
    status, body = http_get(f"{server.endpoint}/_lambent/stats")
    assert status == 200
    view = json.loads(body)["async"]
    return int(view["queued"] + view["claimed"] + view["in_flight"] + view["attempts"])


def test_a_bare_word_is_refused_with_jacksons_detail(lam: Any) -> None:
    status, code, message, resp = refused(lam, b"abc")
    assert (status, code) == (400, "InvalidRequestContentException")
    assert message == (
        PREFIX + f"Unrecognized token 'abc': was expecting {VALUES}\n"
        ' at [Source: (byte[])"abc"; line: 1, column: 4]'
    )
    assert resp["Type"] == "User"


def test_bytes_that_are_not_utf8_are_refused(lam: Any) -> None:
    """What AWS CLI v2 sends when raw JSON is given where it expects base64."""
    status, code, message, _ = refused(lam, b"\x9b\xad\xa5")
    assert (status, code) == (400, "InvalidRequestContentException")
    assert message == (
        PREFIX + f"Unexpected character ((CTRL-CHAR, code 155)): expected a valid value "
        f'{VALUES}\n at [Source: (byte[])"\ufffd\ufffd\ufffd"; line: 1, column: 2]'
    )


def test_an_event_invoke_is_refused_and_nothing_is_queued(server: ServerProcess, lam: Any) -> None:
    before = queue_activity(server)
    status, code, message, _ = refused(lam, b'{"a": 1', InvocationType="Event")
    assert (status, code) == (400, "InvalidRequestContentException")
    assert message.startswith(PREFIX + "Unexpected end-of-input: expected close marker for Object")
    assert queue_activity(server) == before


def test_a_dry_run_is_refused_too(lam: Any) -> None:
    status, code, _, _ = refused(lam, b"{'single': 'quotes'}", InvocationType="DryRun")
    assert (status, code) == (400, "InvalidRequestContentException")


def test_any_json_value_runs(lam: Any) -> None:
    for payload, event in [(b'"hello"', "hello"), (b"[1, 2]", [1, 2]), (b"", {})]:
        out = lam.invoke(FunctionName="payloads", Payload=payload)
        assert out["StatusCode"] == 200
        assert json.loads(out["Payload"].read()) == {"got": event}
