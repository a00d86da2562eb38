"""The pure halves of the URL endpoint: addresses, the 2.0 event, the response, CORS."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lambent.function_urls import addresses, cors, response
from lambent.function_urls.event import EventContext, build_event, encode_body, request_time
from lambent.function_urls.model import URL_ID_ALPHABET, UrlConfig, iso_time, new_url_id, render
from lambent.http.messages import Request

URL_ID = "a" * 32


def request(
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> Request:
    return Request(method, path, query, dict(headers or {}), body, peer=("10.1.2.3", 5555))


def ctx(**kw: Any) -> EventContext:
    base: dict[str, Any] = {
        "url_id": URL_ID,
        "account_id": "anonymous",
        "request_id": "rid",
        "now": 1583348638.390,
        "raw_path": "/",
        "source_ip": "10.1.2.3",
        "trace_id": "Root=1-x",
        "forwarded_port": "9000",
    }
    base.update(kw)
    return EventContext(**base)


# addresses -----------------------------------------------------------------------------
def test_path_form_is_what_function_url_says_and_parses_back() -> None:
    url = addresses.function_url("http://127.0.0.1:9000/", URL_ID)
    assert url == f"http://127.0.0.1:9000/_lambent/url/{URL_ID}/"
    found = addresses.from_path(f"/_lambent/url/{URL_ID}/a/b")
    assert found == addresses.Addressed(URL_ID, None, "/a/b")
    assert addresses.from_path(f"/_lambent/url/{URL_ID}") == addresses.Addressed(URL_ID, None, "/")
    assert addresses.from_path("/_lambent/url/") is None
    assert addresses.from_path("/2015-03-31/functions") is None


def test_host_form_names_id_and_region() -> None:
    host = f"{addresses.host_name(URL_ID, 'eu-west-1')}:9000"
    assert host == f"{URL_ID}.lambda-url.eu-west-1.localhost:9000"
    assert addresses.from_host(host, "/x") == addresses.Addressed(URL_ID, "eu-west-1", "/x")
    assert addresses.from_host(f"{URL_ID.upper()}.LAMBDA-URL.us-east-1.on.aws", "") == (
        addresses.Addressed(URL_ID, "us-east-1", "/")
    )
    assert addresses.from_host("127.0.0.1:9000", "/") is None
    assert addresses.from_host("lambda.us-east-1.amazonaws.com", "/") is None


def test_url_ids_look_like_aws_ones() -> None:
    ids = {new_url_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 32 and set(i) <= set(URL_ID_ALPHABET) for i in ids)


def test_render_shapes_create_and_get() -> None:
    config = UrlConfig(URL_ID, "123456789012", "us-east-1", "f", "live", "NONE", 0.5, 1.25, 0.1)
    created = render(config, "http://u/", with_modified=False)
    assert created == {
        "FunctionUrl": "http://u/",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f:live",
        "AuthType": "NONE",
        "CreationTime": "1970-01-01T00:00:00.500000Z",
    }
    full = render(config.updated({"InvokeMode": "RESPONSE_STREAM", "Cors": {}}, 2.0), "u")
    assert full["LastModifiedTime"] == iso_time(2.0)
    assert full["InvokeMode"] == "RESPONSE_STREAM" and full["Cors"] == {}
    latest = UrlConfig(URL_ID, "123456789012", "us-east-1", "f", "$LATEST", "NONE", 0, 0, 0)
    assert latest.function_arn == "arn:aws:lambda:us-east-1:123456789012:function:f"


# the event -----------------------------------------------------------------------------
def test_event_has_the_payload_2_shape() -> None:
    req = request(
        "POST",
        "/_lambent/url/x/my/path",
        "parameter1=value1&parameter1=value2&parameter2=value&empty=",
        {
            "host": "h:9000",
            "user-agent": "agent",
            "content-type": "application/json",
            "cookie": "cookie1=a; cookie2=b",
            "x-custom": "v1, v2",
        },
        b'{"k": "\xc3\xa9"}',
    )
    event = build_event(req, ctx(raw_path="/my/path"))
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/my/path"
    assert event["rawQueryString"] == req.raw_query
    assert event["cookies"] == ["cookie1=a", "cookie2=b"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "v1, v2"
    assert event["headers"]["x-forwarded-for"] == "10.1.2.3"
    assert event["headers"]["x-amzn-trace-id"] == "Root=1-x"
    assert event["queryStringParameters"] == {
        "parameter1": "value1,value2",
        "parameter2": "value",
        "empty": "",
    }
    assert event["body"] == '{"k": "é"}' and event["isBase64Encoded"] is False
    rc = event["requestContext"]
    assert rc["accountId"] == "anonymous"
    assert rc["apiId"] == URL_ID and rc["domainPrefix"] == URL_ID
    assert rc["domainName"] == "h:9000"
    assert rc["http"] == {
        "method": "POST",
        "path": "/my/path",
        "protocol": "HTTP/1.1",
        "sourceIp": "10.1.2.3",
        "userAgent": "agent",
    }
    assert rc["stage"] == "$default" and rc["routeKey"] == "$default"
    assert rc["requestId"] == "rid"
    assert rc["time"] == "04/Mar/2020:19:03:58 +0000"
    assert rc["timeEpoch"] == 1583348638390
    assert "authorizer" not in rc


def test_event_without_query_cookies_or_body() -> None:
    event = build_event(request(), ctx())
    assert "queryStringParameters" not in event and "cookies" not in event
    assert "body" not in event and event["isBase64Encoded"] is False


def test_binary_and_non_utf8_text_bodies_are_base64() -> None:
    raw = bytes(range(256))
    assert encode_body(raw, "application/octet-stream") == (base64.b64encode(raw).decode(), True)
    assert encode_body(raw, "text/plain")[1] is True
    assert encode_body(b"a=1", None) == ("YT0x", True)
    assert encode_body(b"a=1", "application/x-www-form-urlencoded")[1] is True
    assert encode_body(b"<a/>", "application/xml; charset=utf-8") == ("<a/>", False)


def test_forwarded_for_is_appended_to() -> None:
    event = build_event(request(headers={"x-forwarded-for": "1.1.1.1"}), ctx())
    assert event["headers"]["x-forwarded-for"] == "1.1.1.1, 10.1.2.3"


def test_request_time_is_english_whatever_the_locale() -> None:
    assert request_time(0) == "01/Jan/1970:00:00:00 +0000"
    assert request_time(1631055022.677) == "07/Sep/2021:22:50:22 +0000"


# the response --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("returned", "body"),
    [
        ({"hello": "world"}, b'{"hello":"world"}'),
        ("hello", b"hello"),
        (["hello", 3, True], b'["hello",3,true]'),
        (3, b"3"),
        (3.1, b"3.1"),
        (True, b"true"),
        (None, b"null"),
        ({"body": "x"}, b'{"body":"x"}'),
    ],
)
def test_plain_json_answers_are_200_json(returned: Any, body: bytes) -> None:
    answer = response.from_payload(json.dumps(returned).encode())
    assert answer.status == 200
    assert answer.body == body
    assert answer.headers == [("Content-Type", "application/json")]


def test_status_code_objects_are_http_responses() -> None:
    answer = response.from_payload(
        json.dumps(
            {
                "statusCode": "418",
                "headers": {"My-Header": "v", "Content-Length": "99", "X-Num": 5},
                "cookies": ["a=1; Max-Age=5", "b=2"],
                "body": "i'm a teapot",
            }
        ).encode()
    )
    assert answer.status == 418
    assert answer.body == b"i'm a teapot"
    assert answer.headers == [
        ("Content-Type", "application/json"),
        ("My-Header", "v"),
        ("X-Num", "5"),
        ("Set-Cookie", "a=1; Max-Age=5"),
        ("Set-Cookie", "b=2"),
    ]


def test_base64_bodies_are_decoded_to_the_exact_bytes() -> None:
    raw = bytes(range(256))
    answer = response.from_payload(
        json.dumps(
            {
                "statusCode": 200,
                "headers": {"content-type": "image/png"},
                "body": base64.b64encode(raw).decode(),
                "isBase64Encoded": True,
            }
        ).encode()
    )
    assert answer.body == raw
    assert answer.headers == [("content-type", "image/png")]


def test_missing_body_is_empty_and_json_body_is_serialised() -> None:
    assert response.from_payload(b'{"statusCode": 204}').body == b""
    assert response.from_payload(b'{"statusCode": 200, "body": {"a": 1}}').body == b'{"a":1}'


def test_header_injection_and_unencodable_headers_are_dropped() -> None:
    answer = response.structured(
        {
            "statusCode": 200,
            "headers": {"X-A": "a\r\nSet-Cookie: evil", "X-B": "\u2603", "X C": "1"},
        }
    )
    assert answer.headers == [("Content-Type", "application/json")]


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"statusCode": "abc"}',
        b'{"statusCode": 99}',
        b'{"statusCode": 200, "body": "%%%", "isBase64Encoded": true}',
    ],
)
def test_unusable_answers_are_bad_responses(payload: bytes) -> None:
    with pytest.raises(response.BadResponse):
        response.from_payload(payload)


def test_failure_and_error_bodies() -> None:
    assert response.failed().status == 502
    assert response.failed().body == b"Internal Server Error"
    err = response.error(403, "AccessDeniedException", None)
    assert err.body == b'{"Message":null}'
    assert ("x-amzn-ErrorType", "AccessDeniedException") in err.headers


# CORS ----------------------------------------------------------------------------------
CORS = {
    "AllowOrigins": ["https://a.example"],
    "AllowMethods": ["GET", "POST"],
    "AllowHeaders": ["x-custom", "content-type"],
    "ExposeHeaders": ["x-out"],
    "AllowCredentials": True,
    "MaxAge": 300,
}


def preflight_headers(**extra: str) -> dict[str, str]:
    return {"origin": "https://a.example", "access-control-request-method": "POST", **extra}


def test_preflight_for_an_allowed_origin_lists_the_allowances() -> None:
    answer = cors.preflight(
        CORS, preflight_headers(**{"access-control-request-headers": "X-Custom"})
    )
    assert answer.status == 200 and answer.body == b""
    assert dict(answer.headers) == {
        "Access-Control-Allow-Origin": "https://a.example",
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "x-custom, content-type",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Max-Age": "300",
        "Vary": "Origin",
    }


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example", "access-control-request-method": "POST"},
        {"origin": "https://a.example", "access-control-request-method": "DELETE"},
        preflight_headers(**{"access-control-request-headers": "x-other"}),
    ],
)
def test_preflight_refusals_carry_no_cors_headers(headers: dict[str, str]) -> None:
    answer = cors.preflight(CORS, headers)
    assert answer.status == 200 and answer.headers == []


def test_wildcards() -> None:
    open_cors = {"AllowOrigins": ["*"], "AllowMethods": ["*"], "AllowHeaders": ["*"]}
    answer = cors.preflight(
        open_cors, preflight_headers(**{"access-control-request-headers": "a, b"})
    )
    assert dict(answer.headers)["Access-Control-Allow-Origin"] == "*"
    with_credentials = {**open_cors, "AllowCredentials": True}
    assert cors.allow_origin(with_credentials, "https://z") == "https://z"
    assert cors.allow_origin(open_cors, None) is None


def test_is_preflight_needs_origin_and_requested_method() -> None:
    assert cors.is_preflight("OPTIONS", preflight_headers())
    assert not cors.is_preflight("OPTIONS", {"origin": "x"})
    assert not cors.is_preflight("GET", preflight_headers())


def test_decorate_overrides_the_functions_cors_headers() -> None:
    answer = response.HttpAnswer(
        200, b"x", [("access-control-allow-origin", "https://mine"), ("X", "1")]
    )
    out = cors.decorate(CORS, "https://a.example", answer)
    assert out.headers == [
        ("X", "1"),
        ("Access-Control-Allow-Origin", "https://a.example"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Expose-Headers", "x-out"),
        ("Vary", "Origin"),
    ]
    untouched = response.HttpAnswer(200, b"", [("X", "1")])
    assert cors.decorate(CORS, "https://evil", untouched).headers == [("X", "1")]
