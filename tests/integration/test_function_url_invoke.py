"""Calling function URLs over real HTTP: the 2.0 event, responses, errors, auth, CORS."""

from __future__ import annotations

import base64
import http.client
import io
import json
import shutil
import subprocess
import urllib.parse
import zipfile
from email.message import Message
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support import ServerProcess, lambda_role

APP = """
import base64, json

def handler(event, context):
    path = event["rawPath"]
    if path == "/raise":
        raise ValueError("boom")
    if path == "/plain":
        return {"hello": "world", "n": [1, 2]}
    if path == "/string":
        return "hello"
    if path == "/bad":
        return {"statusCode": "teapot"}
    if path == "/binary":
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/octet-stream"},
            "body": base64.b64encode(bytes(range(256))).decode(),
            "isBase64Encoded": True,
        }
    if path == "/custom":
        return {
            "statusCode": 201,
            "headers": {"X-Custom": "yes", "Content-Type": "text/plain"},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": "created",
        }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"event": event, "arn": context.invoked_function_arn}),
    }
"""

Reply = tuple[int, Message, bytes]


def zipped() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", APP)
    return buf.getvalue()


def call(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.msg, resp.read()
    finally:
        conn.close()


def echoed(reply: Reply) -> dict[str, Any]:
    status, _, body = reply
    assert status == 200, body
    return dict(json.loads(body))


def signed_headers(
    url: str, method: str, body: bytes, keys: tuple[str, str], service: str = "lambda"
) -> dict[str, str]:
    req = AWSRequest(method=method, url=url, data=body, headers={"content-type": "text/plain"})
    SigV4Auth(Credentials(*keys), service, "us-east-1").add_auth(req)
    return dict(req.headers.items())


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    role = lambda_role(server, "url-role")
    client = server.client("lambda")
    client.create_function(
        FunctionName="web",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped()},
        Timeout=10,
    )
    client.get_waiter("function_active_v2").wait(FunctionName="web")
    version = client.publish_version(FunctionName="web")["Version"]
    client.create_alias(FunctionName="web", Name="live", FunctionVersion=version)
    return client


def account_of(lam: Any) -> str:
    return str(lam.get_function(FunctionName="web")["Configuration"]["FunctionArn"].split(":")[4])


def public(lam: Any, qualifier: str | None = None) -> None:
    extra = {"Qualifier": qualifier} if qualifier else {}
    lam.add_permission(
        FunctionName="web",
        StatementId=f"public-{qualifier or 'latest'}",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
        **extra,
    )


@pytest.fixture(scope="module")
def url(lam: Any) -> str:
    created = lam.create_function_url_config(
        FunctionName="web",
        AuthType="NONE",
        Cors={
            "AllowOrigins": ["https://app.example"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["x-custom"],
            "ExposeHeaders": ["x-custom"],
            "MaxAge": 120,
        },
    )
    public(lam)
    return str(created["FunctionUrl"])


def test_get_with_query_headers_and_cookies(url: str, server: ServerProcess) -> None:
    reply = call(
        url + "some/path?a=1&a=2&b=x%20y",
        headers={"X-Custom": "Mixed Case", "Cookie": "c1=v1; c2=v2", "User-Agent": "tests/1"},
    )
    headers = reply[1]
    out = echoed(reply)
    event = out["event"]
    assert out["arn"].endswith(":function:web")
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/some/path"
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["headers"]["x-custom"] == "Mixed Case"
    assert "cookie" not in event["headers"]
    assert "body" not in event and event["isBase64Encoded"] is False
    rc = event["requestContext"]
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    assert rc["apiId"] == url_id and rc["domainPrefix"] == url_id
    assert rc["accountId"] == "anonymous"
    assert rc["http"]["method"] == "GET" and rc["http"]["path"] == "/some/path"
    assert rc["http"]["sourceIp"] == "127.0.0.1"
    assert rc["http"]["userAgent"] == "tests/1"
    assert rc["requestId"] == headers["x-amzn-RequestId"]
    assert "authorizer" not in rc


def test_post_text_and_binary_bodies(url: str) -> None:
    text = '{"k": "välue"}'.encode()
    event = echoed(call(url, "POST", text, {"Content-Type": "application/json"}))["event"]
    assert event["body"] == '{"k": "välue"}' and event["isBase64Encoded"] is False
    raw = bytes(range(256)) * 8
    event = echoed(call(url, "POST", raw, {"Content-Type": "application/octet-stream"}))["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_status_code_response_with_headers_and_cookies(url: str) -> None:
    status, headers, body = call(url + "custom")
    assert status == 201
    assert body == b"created"
    assert headers["X-Custom"] == "yes"
    assert headers["Content-Type"] == "text/plain"
    assert headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2"]


def test_binary_response_bytes_unchanged(url: str) -> None:
    status, headers, body = call(url + "binary")
    assert status == 200
    assert headers["Content-Type"] == "application/octet-stream"
    assert body == bytes(range(256))


def test_plain_json_return_is_a_200_json_body(url: str) -> None:
    status, headers, body = call(url + "plain")
    assert (status, body) == (200, b'{"hello":"world","n":[1,2]}')
    assert headers["Content-Type"] == "application/json"
    assert call(url + "string")[2] == b"hello"


def test_function_error_and_bad_answer_are_502(url: str) -> None:
    for path in ("raise", "bad"):
        status, headers, body = call(url + path)
        assert (status, body) == (502, b"Internal Server Error")
        assert headers["x-amzn-RequestId"]


def test_host_form_routes_by_host_header(url: str, server: ServerProcess) -> None:
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    host = f"{url_id}.lambda-url.us-east-1.localhost:{server.port}"
    event = echoed(call(f"{server.endpoint}/by/host?q=1", headers={"Host": host}))["event"]
    assert event["rawPath"] == "/by/host"
    assert event["requestContext"]["domainName"] == host
    wrong_region = f"{url_id}.lambda-url.eu-west-1.localhost:{server.port}"
    assert call(f"{server.endpoint}/", headers={"Host": wrong_region})[0] == 403


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_resolves_the_localhost_host_form(url: str, server: ServerProcess) -> None:
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    target = f"http://{url_id}.lambda-url.us-east-1.localhost:{server.port}/via/curl"
    out = subprocess.run(
        ["curl", "-sS", "--max-time", "60", target], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout)["event"]["rawPath"] == "/via/curl"


def test_cors_preflight_is_answered_without_invoking(url: str) -> None:
    status, headers, body = call(
        url + "raise",  # a preflight that reached the function would answer 502
        "OPTIONS",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-Custom",
        },
    )
    assert (status, body) == (200, b"")
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert headers["Access-Control-Allow-Headers"] == "x-custom"
    assert headers["Access-Control-Max-Age"] == "120"
    refused = call(
        url, "OPTIONS", headers={"Origin": "https://evil", "Access-Control-Request-Method": "GET"}
    )
    assert refused[0] == 200 and refused[1]["Access-Control-Allow-Origin"] is None


def test_cors_headers_on_actual_responses(url: str) -> None:
    _, headers, _ = call(url + "custom", headers={"Origin": "https://app.example"})
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Access-Control-Expose-Headers"] == "x-custom"
    _, headers, _ = call(url + "custom", headers={"Origin": "https://evil"})
    assert headers["Access-Control-Allow-Origin"] is None


def test_none_url_needs_the_public_permission(lam: Any) -> None:
    live = lam.create_function_url_config(FunctionName="web", Qualifier="live", AuthType="NONE")
    status, headers, body = call(live["FunctionUrl"])
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert json.loads(body)["Message"].startswith("Forbidden.")
    public(lam, "live")
    out = echoed(call(live["FunctionUrl"]))
    assert out["arn"].endswith(":function:web:live")
    lam.delete_function_url_config(FunctionName="web", Qualifier="live")


def test_aws_iam_url_needs_a_sigv4_signature(lam: Any, server: ServerProcess) -> None:
    lam.update_function_url_config(FunctionName="web", AuthType="AWS_IAM")
    try:
        url = lam.get_function_url_config(FunctionName="web")["FunctionUrl"]
        status, headers, _ = call(url, "POST", b"hi")
        assert status == 403 and headers["x-amzn-ErrorType"] == "AccessDeniedException"

        keys = server.credentials()
        account = account_of(lam)
        signed = signed_headers(url + "signed", "POST", b"hi", keys)
        event = echoed(call(url + "signed", "POST", b"hi", signed))["event"]
        iam = event["requestContext"]["authorizer"]["iam"]
        assert iam["accessKey"] == keys[0]
        assert iam["accountId"] == account == event["requestContext"]["accountId"]
        assert iam["userArn"] == f"arn:aws:iam::{account}:root"
        assert event["body"] == "hi"

        forged = signed_headers(url, "POST", b"hi", (keys[0], "not-the-secret"))
        status, headers, _ = call(url, "POST", b"hi", forged)
        assert status == 403 and headers["x-amzn-ErrorType"] == "InvalidSignatureException"
        wrong_service = signed_headers(url, "POST", b"hi", keys, service="s3")
        assert call(url, "POST", b"hi", wrong_service)[0] == 403
    finally:
        lam.update_function_url_config(FunctionName="web", AuthType="NONE")


def test_aws_iam_same_account_user(lam: Any, server: ServerProcess) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="caller")
    key = iam.create_access_key(UserName="caller")["AccessKey"]
    lam.update_function_url_config(FunctionName="web", AuthType="AWS_IAM")
    try:
        url = lam.get_function_url_config(FunctionName="web")["FunctionUrl"]
        keys = (key["AccessKeyId"], key["SecretAccessKey"])
        event = echoed(call(url, "GET", b"", signed_headers(url, "GET", b"", keys)))["event"]
        user_arn = event["requestContext"]["authorizer"]["iam"]["userArn"]
        assert user_arn == f"arn:aws:iam::{account_of(lam)}:user/caller"
    finally:
        lam.update_function_url_config(FunctionName="web", AuthType="NONE")


def test_throttled_function_answers_429(lam: Any, url: str) -> None:
    lam.put_function_concurrency(FunctionName="web", ReservedConcurrentExecutions=0)
    try:
        status, headers, body = call(url)
        assert status == 429
        assert headers["x-amzn-ErrorType"] == "TooManyRequestsException"
        assert json.loads(body) == {"Message": "Rate Exceeded."}
    finally:
        lam.delete_function_concurrency(FunctionName="web")
    assert call(url)[0] == 200


def test_deleted_and_unknown_urls_are_403(lam: Any, server: ServerProcess) -> None:
    temp = lam.create_function_url_config(FunctionName="web", Qualifier="live", AuthType="NONE")
    lam.delete_function_url_config(FunctionName="web", Qualifier="live")
    for target in (temp["FunctionUrl"], f"{server.endpoint}/_lambent/url/{'0' * 32}/"):
        status, headers, body = call(target)
        assert (status, body) == (403, b'{"Message":null}')
        assert headers["x-amzn-ErrorType"] == "AccessDeniedException"
        assert headers["Content-Type"] == "application/json"
