"""An invocation on the internal wire: frontend -> worker and back.

The payload travels as the HTTP body both ways, untouched, as on the public path; what
the environment needs besides it travels in headers. A domain error the worker meets
(a throttle by the scaling limit, a runtime this host lacks, a retired version) comes back
as a small JSON document the frontend raises again as the same domain error, so the
client's answer does not depend on where the invocation ran.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from lambent.environments.invocation import InvocationRequest, InvocationResult
from lambent.environments.pool import PoolRetired
from lambent.errors import (
    InternalFailure,
    InvalidRuntime,
    NotReadyError,
    ServiceError,
    ThrottledError,
    TooManyRequests,
)

INVOKE_PATH = "/_lambent/internal/invoke"
BLOBS_PREFIX = "/_lambent/internal/blobs/"

H_FUNCTION = "x-lambent-function"
H_KEY = "x-lambent-version-key"
H_REQUEST_ID = "x-lambent-request-id"
H_INVOKED_ARN = "x-lambent-invoked-arn"
H_TRACE = "x-lambent-trace-id"
H_CONTEXT = "x-lambent-client-context"
H_COGNITO = "x-lambent-cognito-identity"
H_TAIL = "x-lambent-log-tail"
H_EXECUTED = "x-lambent-executed-version"
H_FUNCTION_ERROR = "x-lambent-function-error"
H_ERROR_TYPE = "x-lambent-error-type"
H_LOG_RESULT = "x-lambent-log-result"
H_DURATION = "x-lambent-duration-ms"
H_COLD = "x-lambent-cold"
H_WORKER = "x-lambent-worker"


@dataclass(frozen=True, slots=True)
class Target:
    """Which version to run: the worker loads it from the shared store by name and checks
    it is the same code and configuration (`key`) the frontend resolved."""

    account_id: str
    function_name: str
    version: str
    key: str


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _unb64(value: str) -> str:
    return base64.b64decode(value).decode()


def request_headers(target: Target, req: InvocationRequest) -> list[tuple[str, str]]:
    headers = [
        (H_FUNCTION, f"{target.account_id}/{target.function_name}/{target.version}"),
        (H_KEY, target.key),
        (H_REQUEST_ID, req.request_id),
        (H_INVOKED_ARN, req.invoked_arn),
    ]
    if req.trace_id:
        headers.append((H_TRACE, req.trace_id))
    if req.client_context is not None:
        headers.append((H_CONTEXT, _b64(req.client_context)))
    if req.cognito_identity is not None:
        headers.append((H_COGNITO, _b64(req.cognito_identity)))
    if req.want_tail:
        headers.append((H_TAIL, "1"))
    return headers


def parse_request(headers: dict[str, str], body: bytes) -> tuple[Target, InvocationRequest]:
    """Raises ValueError for a request no frontend sends."""
    account, name, version = headers[H_FUNCTION].split("/", 2)
    context = headers.get(H_CONTEXT)
    cognito = headers.get(H_COGNITO)
    req = InvocationRequest(
        request_id=headers[H_REQUEST_ID],
        payload=body,
        invoked_arn=headers[H_INVOKED_ARN],
        client_context=_unb64(context) if context is not None else None,
        cognito_identity=_unb64(cognito) if cognito is not None else None,
        trace_id=headers.get(H_TRACE),
        want_tail=headers.get(H_TAIL) == "1",
    )
    return Target(account, name, version, headers[H_KEY]), req


def result_headers(result: InvocationResult) -> list[tuple[str, str]]:
    headers = [
        (H_EXECUTED, result.executed_version),
        (H_DURATION, f"{result.duration_ms:.3f}"),
    ]
    if result.function_error is not None:
        headers.append((H_FUNCTION_ERROR, result.function_error))
    if result.error_type is not None:
        headers.append((H_ERROR_TYPE, result.error_type))
    if result.log_tail is not None:
        headers.append((H_LOG_RESULT, result.log_tail))
    if result.cold:
        headers.append((H_COLD, "1"))
    return headers


def parse_result(headers: dict[str, str], body: bytes) -> InvocationResult:
    return InvocationResult(
        payload=body,
        executed_version=headers[H_EXECUTED],
        function_error=headers.get(H_FUNCTION_ERROR),
        error_type=headers.get(H_ERROR_TYPE),
        log_tail=headers.get(H_LOG_RESULT),
        duration_ms=float(headers.get(H_DURATION) or 0.0),
        cold=headers.get(H_COLD) == "1",
    )


# -- domain errors across the wire -----------------------------------------------------
SUPERSEDED = "superseded"


def error_body(exc: BaseException) -> bytes:
    """What the worker answers (status 409) for a domain error or a retired version."""
    if isinstance(exc, PoolRetired):
        doc: dict[str, object] = {"kind": SUPERSEDED}
    elif isinstance(exc, ThrottledError):
        doc = {
            "kind": "throttled",
            "code": exc.code,
            "message": exc.message,
            "reason": exc.reason,
            "retry_after_s": exc.retry_after_s,
        }
    elif isinstance(exc, NotReadyError):
        doc = {"kind": "not_ready", "code": exc.code, "message": exc.message}
    elif isinstance(exc, ServiceError):
        doc = {"kind": "service", "code": exc.code, "message": exc.message}
    else:
        doc = {"kind": "service", "code": "ServiceException", "message": "Internal error"}
    return json.dumps(doc).encode()


def raise_error(body: bytes) -> None:
    """Raise on the frontend the domain error the worker met."""
    try:
        doc = json.loads(body)
        kind = doc["kind"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InternalFailure("The worker answered something unexpected.") from exc
    if kind == SUPERSEDED:
        raise PoolRetired()
    code, message = str(doc.get("code")), str(doc.get("message"))
    if kind == "throttled":
        retry = doc.get("retry_after_s")
        raise TooManyRequests(
            message,
            reason=str(doc.get("reason")),
            retry_after_s=int(retry) if retry is not None else None,
        )
    if kind == "not_ready" and code == InvalidRuntime.code:
        raise InvalidRuntime(message)
    if kind == "not_ready":
        raise NotReadyError(message, code=code)
    raise ServiceError(message, code=code)
