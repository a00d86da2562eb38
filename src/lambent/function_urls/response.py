"""The function's answer as the HTTP response a function URL sends (pure).

As AWS does (and as it answers, recorded against the live service):

- an object with `statusCode` is a response: status, headers, `cookies` (one Set-Cookie
  each), body (base64-decoded when `isBase64Encoded`), content type application/json
  unless the function set one;
- any other JSON value is a 200 application/json body: a string as its text (`"hello"`
  answers `hello`), anything else re-serialised compactly (`{"a": 1}` answers `{"a":1}`);
- a function error, or an answer that is not JSON or not a valid response, is a 502.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

JSON = "application/json"
# Headers the HTTP server writes itself; a function's copy would duplicate them.
_SERVER_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "date"})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class BadResponse(Exception):
    """The function answered something a function URL cannot send: Lambda answers 502."""


@dataclass
class HttpAnswer:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)

    def has(self, name: str) -> bool:
        lowered = name.lower()
        return any(k.lower() == lowered for k, _ in self.headers)


def compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _safe(name: str, value: str) -> bool:
    """No response splitting, nothing the wire encoding (latin-1) cannot carry."""
    if not _TOKEN.match(name) or "\r" in value or "\n" in value:
        return False
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _header_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _status(value: Any) -> int:
    try:
        status = int(value)
    except (TypeError, ValueError) as exc:
        raise BadResponse(f"invalid statusCode {value!r}") from exc
    if not 100 <= status <= 599:
        raise BadResponse(f"statusCode {status} out of range")
    return status


def _body(doc: dict[str, Any]) -> bytes:
    body = doc.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        return compact(body)
    if doc.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadResponse("body is not valid base64") from exc
    return body.encode("utf-8")


def structured(doc: dict[str, Any]) -> HttpAnswer:
    answer = HttpAnswer(_status(doc.get("statusCode")), _body(doc))
    headers = doc.get("headers")
    if isinstance(headers, dict):
        for name, raw in headers.items():
            value = _header_value(raw)
            key = str(name)
            if value is None or key.lower() in _SERVER_HEADERS or not _safe(key, value):
                continue
            answer.headers.append((key, value))
    cookies = doc.get("cookies")
    if isinstance(cookies, list):
        for cookie in cookies:
            if isinstance(cookie, str) and _safe("Set-Cookie", cookie):
                answer.headers.append(("Set-Cookie", cookie))
    if not answer.has("content-type"):
        answer.headers.insert(0, ("Content-Type", JSON))
    return answer


def from_payload(payload: bytes) -> HttpAnswer:
    """Map a successful invocation's payload; raises BadResponse for what AWS answers 502."""
    try:
        value = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadResponse("the function's answer is not JSON") from exc
    if isinstance(value, dict) and "statusCode" in value:
        return structured(value)
    body = value.encode("utf-8") if isinstance(value, str) else compact(value)
    return HttpAnswer(200, body, [("Content-Type", JSON)])


def failed() -> HttpAnswer:
    """A function error (unhandled exception, timeout, crash) or an unusable answer."""
    return HttpAnswer(502, b"Internal Server Error", [("Content-Type", JSON)])


def error(status: int, code: str, message: str | None) -> HttpAnswer:
    """Lambda's own refusals at a URL: `{"Message": ...}` and `x-amzn-ErrorType`."""
    body = json.dumps({"Message": message}, separators=(",", ":")).encode()
    return HttpAnswer(status, body, [("Content-Type", JSON), ("x-amzn-ErrorType", code)])
