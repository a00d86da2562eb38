"""SigV4-signed HTTP to a Lambent (or AWS-compatible) endpoint, over `http.client`.

Signing reuses `lambent.auth.sigv4.sign_headers`, the code the server verifies with, so
client and server cannot drift apart. `http.client` rather than boto3 keeps start-up light
and lets a large body be sent in chunks, which is what upload progress needs.
One connection is kept alive across calls; if a reused connection turns out to have been
closed by the server before it answered, the request is sent once more on a fresh one.
"""

from __future__ import annotations

import http.client
import json
import socket
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from lambent.auth.sigv4 import sign_headers
from lambent.cli.config import ClientConfig
from lambent.cli.errors import ApiError, EndpointUnreachable

CHUNK = 64 * 1024
DEFAULT_TIMEOUT_S = 60.0
IAM_VERSION = "2010-05-08"
LOGS_TARGET = "Logs_20140328"
GLOBAL_SERVICES_REGION = "us-east-1"  # IAM is signed for us-east-1 whatever the region

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


def query_string(params: Mapping[str, str | int | None]) -> str:
    pairs = [(k, str(v)) for k, v in params.items() if v is not None]
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


class AwsClient:
    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        parts = urlsplit(config.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EndpointUnreachable(f"endpoint {config.endpoint!r} is not an http(s) URL")
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._host = parts.hostname
        self._port = parts.port
        self._base_path = parts.path.rstrip("/")
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> AwsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # protocols -----------------------------------------------------------------------
    def lambda_call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | int | None] | None = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        progress: Progress | None = None,
    ) -> HttpAnswer:
        """A rest-json Lambda call; raises ApiError on an error answer."""
        hdrs = dict(headers or {})
        if body:
            hdrs.setdefault("content-type", "application/json")
        answer = self.send(
            "lambda",
            method,
            path,
            query_string(query or {}),
            hdrs,
            body,
            timeout=timeout,
            progress=progress,
        )
        if answer.status >= 300:
            raise json_error(answer)
        return answer

    def lambda_json(
        self,
        method: str,
        path: str,
        document: Mapping[str, Any] | None = None,
        *,
        query: Mapping[str, str | int | None] | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        body = json.dumps(document).encode() if document is not None else b""
        answer = self.lambda_call(method, path, query=query, body=body, progress=progress)
        return decode_json(answer)

    def iam(self, action: str, params: Mapping[str, str]) -> ET.Element:
        """An IAM query-protocol call; returns the `<ActionResult>` element."""
        body = query_string({"Action": action, "Version": IAM_VERSION, **params}).encode()
        hdrs = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
        answer = self.send("iam", "POST", "/", "", hdrs, body, region=GLOBAL_SERVICES_REGION)
        if answer.status >= 300:
            raise xml_error(answer)
        root = parse_xml(answer)
        result = find_child(root, f"{action}Result")
        return result if result is not None else root

    def logs(self, operation: str, document: Mapping[str, Any]) -> dict[str, Any]:
        hdrs = {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": f"{LOGS_TARGET}.{operation}",
        }
        answer = self.send("logs", "POST", "/", "", hdrs, json.dumps(document).encode())
        if answer.status >= 300:
            raise json_error(answer)
        return decode_json(answer)

    def sqs(self, operation: str, document: Mapping[str, Any]) -> dict[str, Any]:
        hdrs = {
            "content-type": "application/x-amz-json-1.0",
            "x-amz-target": f"AmazonSQS.{operation}",
        }
        answer = self.send("sqs", "POST", "/", "", hdrs, json.dumps(document).encode())
        if answer.status >= 300:
            raise json_error(answer)
        return decode_json(answer)

    # transport -----------------------------------------------------------------------
    def send(
        self,
        service: str,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        region: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        progress: Progress | None = None,
    ) -> HttpAnswer:
        creds = self.config.credentials
        full_path = self._base_path + path
        signed = sign_headers(
            method=method,
            url_path=full_path,
            query=query,
            headers={**headers, "host": self._netloc},
            body=body,
            access_key=creds.access_key,
            secret=creds.secret,
            region=region or self.config.region,
            service=service,
            session_token=creds.session_token,
        )
        target = full_path + (f"?{query}" if query else "")
        reused = self._conn is not None
        try:
            return self._exchange(method, target, signed, body, timeout, progress)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.close()
            if not reused:
                raise self._unreachable("the server closed the connection") from None
        try:
            return self._exchange(method, target, signed, body, timeout, progress)
        except (http.client.HTTPException, OSError) as exc:
            self.close()
            raise self._unreachable(str(exc) or type(exc).__name__) from exc

    def _exchange(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,
        progress: Progress | None,
    ) -> HttpAnswer:
        conn = self._connection(timeout)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.putheader("content-length", str(len(body)))
            conn.endheaders()
            _send_body(conn, body, progress)
            resp = conn.getresponse()
            data = resp.read()
        except ConnectionRefusedError:
            self.close()
            raise EndpointUnreachable(
                f"cannot connect to {self.config.endpoint}: connection refused "
                f"(is `lambent serve` running at {self.config.endpoint}?)"
            ) from None
        except (TimeoutError, socket.gaierror) as exc:
            self.close()
            raise self._unreachable(str(exc) or "timed out") from exc
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            raise
        except (http.client.HTTPException, OSError) as exc:
            self.close()
            raise self._unreachable(str(exc) or type(exc).__name__) from exc
        if resp.will_close:
            self.close()
        return HttpAnswer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=timeout)
        elif self._conn.sock is not None:
            self._conn.sock.settimeout(timeout)
        self._conn.timeout = timeout
        return self._conn

    def _unreachable(self, why: str) -> EndpointUnreachable:
        return EndpointUnreachable(f"cannot talk to {self.config.endpoint}: {why}")


def _send_body(conn: http.client.HTTPConnection, body: bytes, progress: Progress | None) -> None:
    if progress is None:
        if body:
            conn.send(body)
        return
    total = len(body)
    view = memoryview(body)
    for offset in range(0, total, CHUNK):
        conn.send(view[offset : offset + CHUNK])
        progress(min(offset + CHUNK, total), total)
    if total == 0:
        progress(0, 0)


# answers -------------------------------------------------------------------------------
def decode_json(answer: HttpAnswer) -> dict[str, Any]:
    if not answer.body:
        return {}
    try:
        doc = json.loads(answer.body)
    except ValueError as exc:
        raise ApiError("InvalidResponse", f"the server sent invalid JSON: {exc}", 0) from exc
    if not isinstance(doc, dict):
        raise ApiError("InvalidResponse", "the server sent JSON that is not an object", 0)
    return doc


def json_error(answer: HttpAnswer) -> ApiError:
    """Lambda's and Logs' error shapes: `x-amzn-ErrorType` and/or `__type`, plus a message."""
    doc: dict[str, Any] = {}
    try:
        parsed = json.loads(answer.body) if answer.body else {}
        if isinstance(parsed, dict):
            doc = parsed
    except ValueError:
        pass
    code = answer.headers.get("x-amzn-errortype") or str(doc.get("__type") or "")
    code = code.split(":", 1)[0].rsplit("#", 1)[-1]
    message = next((str(doc[k]) for k in ("message", "Message", "errorMessage") if doc.get(k)), "")
    if not code:
        return ApiError(f"HTTP {answer.status}", message or _snippet(answer.body), answer.status)
    return ApiError(code, message, answer.status)


def xml_error(answer: HttpAnswer) -> ApiError:
    try:
        root = ET.fromstring(answer.body)
    except ET.ParseError:
        return ApiError(f"HTTP {answer.status}", _snippet(answer.body), answer.status)
    error = find_child(root, "Error")
    scope = error if error is not None else root
    code = child_text(scope, "Code") or f"HTTP {answer.status}"
    return ApiError(code, child_text(scope, "Message") or "", answer.status)


def parse_xml(answer: HttpAnswer) -> ET.Element:
    try:
        return ET.fromstring(answer.body)
    except ET.ParseError as exc:
        raise ApiError("InvalidResponse", f"the server sent invalid XML: {exc}", 0) from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def find_child(elem: ET.Element, name: str) -> ET.Element | None:
    """The first descendant with this local name (XML namespaces vary between servers)."""
    for node in elem.iter():
        if node is not elem and _local(node.tag) == name:
            return node
    return None


def child_text(elem: ET.Element, name: str) -> str | None:
    node = find_child(elem, name)
    return node.text if node is not None else None


def _snippet(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    return text[:200] if text else "(empty answer)"
