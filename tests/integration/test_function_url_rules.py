"""Function URLs as AWS answers about them (issue 8 §2, AWS-BEHAVIOURS §5), through boto3
and plain HTTP against a real server: the config operations' not-found answers, the event
a URL hands its function, an unknown URL, and the order of enums in messages."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role

APP = """
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""
NO_FUNCTION = "Function does not exist"
NO_RESOURCE = "The resource you requested does not exist."


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    client = server.client("lambda")
    client.create_function(
        FunctionName="url-rules",
        Runtime="python3.12",
        Role=lambda_role(server, "url-rules"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
    )
    client.get_waiter("function_active_v2").wait(FunctionName="url-rules")
    version = client.publish_version(FunctionName="url-rules")["Version"]
    client.create_alias(FunctionName="url-rules", Name="bare", FunctionVersion=version)
    return client


@pytest.fixture(scope="module")
def url(lam: Any) -> str:
    created = lam.create_function_url_config(FunctionName="url-rules", AuthType="NONE")
    lam.add_permission(
        FunctionName="url-rules",
        StatementId="public",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    return str(created["FunctionUrl"])


def failure(call: Any, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    resp = err.value.response
    return (
        int(resp["ResponseMetadata"]["HTTPStatusCode"]),
        str(resp["Error"]["Code"]),
        str(resp["Error"]["Message"]),
    )


def request(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET `path` (sent byte for byte) under the URL."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        conn.request("GET", parts.path.rstrip("/") + path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def event_for(url: str, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    status, body = request(url, path, headers)
    assert status == 200, body
    return dict(json.loads(body))


@pytest.mark.parametrize("operation", ["create", "update"])
def test_create_or_update_on_a_missing_function_or_alias(lam: Any, operation: str) -> None:
    call = getattr(lam, f"{operation}_function_url_config")
    for target in (
        {"FunctionName": "no-such-fn"},
        {"FunctionName": "url-rules", "Qualifier": "ghost"},
    ):
        got = failure(call, AuthType="NONE", **target)
        assert got == (404, "ResourceNotFoundException", NO_FUNCTION)


@pytest.mark.parametrize("operation", ["get", "delete"])
def test_get_or_delete_on_a_missing_function_alias_or_config(lam: Any, operation: str) -> None:
    call = getattr(lam, f"{operation}_function_url_config")
    for target in (
        {"FunctionName": "no-such-fn"},
        {"FunctionName": "url-rules", "Qualifier": "ghost"},
        {"FunctionName": "url-rules", "Qualifier": "bare"},  # an alias without a URL
    ):
        assert failure(call, **target) == (404, "ResourceNotFoundException", NO_RESOURCE)


def test_repeated_slashes_are_one_in_the_events_path(url: str) -> None:
    event = event_for(url, "//test/value")
    assert event["requestContext"]["http"]["path"] == "/test/value"
    assert event["rawPath"] == "//test/value"


def test_an_invalid_percent_escape_passes_through(url: str) -> None:
    event = event_for(url, "/a%zz/b%2")
    assert event["rawPath"] == "/a%zz/b%2"
    assert event["requestContext"]["http"]["path"] == "/a%zz/b%2"


def test_headers_the_function_sees(url: str) -> None:
    headers = event_for(url, "/", {"Connection": "keep-alive", "X-Mine": "1"})["headers"]
    assert "connection" not in headers
    assert headers["x-mine"] == "1"
    assert headers["x-amzn-tls-cipher-suite"] == "ECDHE-RSA-AES128-GCM-SHA256"
    assert headers["x-amzn-tls-version"] == "TLSv1.2"


def test_an_unknown_url_id_is_403_with_a_null_message(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    unknown = url.replace(parts.path, "/_lambent/url/" + "0" * 32 + "/")
    assert request(unknown, "/") == (403, b'{"Message":null}')


def test_enum_order_in_messages(lam: Any) -> None:
    status, code, message = failure(
        lam.create_function_url_config, FunctionName="url-rules", AuthType="NONE", InvokeMode="X"
    )
    assert (status, code) == (400, "ValidationException")
    assert message == (
        "1 validation error detected: Value 'X' at 'invokeMode' failed to satisfy constraint: "
        "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]"
    )
    status, code, message = failure(
        lam.put_function_recursion_config, FunctionName="url-rules", RecursiveLoop="X"
    )
    assert (status, code) == (400, "ValidationException")
    assert message == (
        "1 validation error detected: Value 'X' at 'recursiveLoop' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Terminate, Allow]"
    )
