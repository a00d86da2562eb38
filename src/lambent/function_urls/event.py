"""An HTTP request as the payload-format-2.0 event a function URL hands its function (pure).

Shape and rules from AWS's "Invoking Lambda function URLs": headers lower-cased, the
`cookie` header moved to `cookies`, repeated query parameters comma-joined, and the body
base64-encoded unless its content type is text.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from lambent.http.messages import Request

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Content types delivered as text; anything else (images, forms, octet streams) is base64.
_TEXT_MARKERS = ("text/", "json", "xml", "javascript", "yaml")
_DROPPED = frozenset({"cookie", "connection"})
_TLS = {"x-amzn-tls-cipher-suite": "ECDHE-RSA-AES128-GCM-SHA256", "x-amzn-tls-version": "TLSv1.2"}
_SLASHES = re.compile(r"/{2,}")


@dataclass(frozen=True)
class EventContext:
    url_id: str
    account_id: str  # "anonymous" for AuthType NONE, the caller's account for AWS_IAM
    request_id: str
    now: float
    raw_path: str  # the path the function sees (the path-form prefix removed)
    source_ip: str
    trace_id: str
    forwarded_port: str
    authorizer: dict[str, Any] | None = None


def request_time(epoch: float) -> str:
    """`12/Mar/2020:19:03:58 +0000`, in English whatever the locale."""
    t = time.gmtime(epoch)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    lowered = content_type.lower()
    return any(marker in lowered for marker in _TEXT_MARKERS)


def encode_body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """(body, isBase64Encoded): text passes through; binary, or text that is not UTF-8,
    is base64 so the function gets the exact bytes back."""
    if is_text(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def query_parameters(raw_query: str) -> dict[str, str]:
    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        grouped.setdefault(key, []).append(value)
    return {key: ",".join(values) for key, values in grouped.items()}


def split_cookies(header: str | None) -> list[str]:
    if not header:
        return []
    return [part.strip() for part in header.split(";") if part.strip()]


def event_headers(req: Request, ctx: EventContext) -> dict[str, str]:
    """The caller's headers as the function sees them: without `cookie` (moved to
    `cookies`) and `connection` (AWS's front end ends it), plus what AWS's front end adds,
    among them the TLS it spoke (Lambent serves plain HTTP: AWS's usual values, as in its
    sample event)."""
    headers = {k: v for k, v in req.headers.items() if k not in _DROPPED}
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {ctx.source_ip}" if forwarded else ctx.source_ip
    headers["x-forwarded-proto"] = "http"
    headers["x-forwarded-port"] = ctx.forwarded_port
    headers["x-amzn-trace-id"] = ctx.trace_id
    headers.update(_TLS)
    return headers


def http_path(raw_path: str) -> str:
    """requestContext.http.path: the raw path with repeated slashes made one
    (`//test/value` is `/test/value`); percent-escapes, valid or not, stay as sent."""
    return _SLASHES.sub("/", raw_path)


def build_event(req: Request, ctx: EventContext) -> dict[str, Any]:
    request_context: dict[str, Any] = {
        "accountId": ctx.account_id,
        "apiId": ctx.url_id,
        "domainName": req.headers.get("host", ""),
        "domainPrefix": ctx.url_id,
        "http": {
            "method": req.method,
            "path": http_path(ctx.raw_path),
            "protocol": "HTTP/1.1",
            "sourceIp": ctx.source_ip,
            "userAgent": req.headers.get("user-agent", ""),
        },
        "requestId": ctx.request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": request_time(ctx.now),
        "timeEpoch": int(ctx.now * 1000),
    }
    if ctx.authorizer is not None:
        request_context["authorizer"] = ctx.authorizer
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": ctx.raw_path,
        "rawQueryString": req.raw_query,
    }
    cookies = split_cookies(req.headers.get("cookie"))
    if cookies:
        event["cookies"] = cookies
    event["headers"] = event_headers(req, ctx)
    if req.raw_query:
        event["queryStringParameters"] = query_parameters(req.raw_query)
    event["requestContext"] = request_context
    if req.body:
        event["body"], event["isBase64Encoded"] = encode_body(
            req.body, req.headers.get("content-type")
        )
    else:
        event["isBase64Encoded"] = False
    return event


def event_payload(req: Request, ctx: EventContext) -> bytes:
    return json.dumps(build_event(req, ctx), ensure_ascii=False, separators=(",", ":")).encode()


def iam_authorizer(
    access_key: str | None, account_id: str, user_id: str, user_arn: str
) -> dict[str, Any]:
    """requestContext.authorizer for AuthType AWS_IAM: who signed the request."""
    return {
        "iam": {
            "accessKey": access_key,
            "accountId": account_id,
            "callerId": user_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": user_arn,
            "userId": user_id,
        }
    }
