"""The Runtime API 2018-06-01 for one execution environment.

Each environment has its own listening socket (inside its network namespace), so the
socket a request arrives on already says which environment is talking: there is no
environment id on the wire and no way to answer for another environment's invocation.

The environment layer drives it with `ready()` (init finished or failed) and
`invoke()` (deliver one event, wait for its answer); the runtime drives it with HTTP.
Payload bytes pass through untouched in both directions.
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Callable
from dataclasses import dataclass

from lambent.http.messages import Request, Response
from lambent.runtime_api.state import Answer, RtEvent, RtState, transition

PREFIX = "/2018-06-01/runtime/"
MAX_RESPONSE = 6 * 1024 * 1024 + 100  # RIE's limit: 6 MiB + 100 bytes
_JSON = [("Content-Type", "application/json")]


@dataclass(frozen=True, slots=True)
class Invocation:
    request_id: str
    payload: bytes
    deadline_ms: int
    invoked_function_arn: str
    trace_id: str | None = None
    client_context: str | None = None  # JSON text, as the runtime receives it
    cognito_identity: str | None = None  # JSON text


class Kind(enum.Enum):
    RESPONSE = "response"
    ERROR = "error"
    TOO_LARGE = "too_large"
    INIT_ERROR = "init_error"
    EXITED = "exited"
    TIMED_OUT = "timed_out"  # set by the environment layer's timer, never by the runtime


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: Kind
    body: bytes = b""
    error_type: str | None = None


class RuntimeGone(Exception):
    """The environment died before answering."""


def _error(status: int, error_type: str, message: str) -> Response:
    body = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
    return Response(status, body, list(_JSON))


_ACCEPTED = b'{"status":"OK"}'


class RuntimeApi:
    """The protocol side of one environment. One invocation at a time, as in Lambda."""

    def __init__(
        self,
        env_id: str,
        *,
        max_response: int = MAX_RESPONSE,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self.env_id = env_id
        self.state = RtState.STARTING
        self._max_response = max_response
        self._on_idle = on_idle
        self._parked: asyncio.Future[Response] | None = None
        self._current: Invocation | None = None
        self._answer: asyncio.Future[Outcome] | None = None
        self._ready: asyncio.Future[Outcome | None] = asyncio.get_running_loop().create_future()

    # -- the environment layer's side ------------------------------------------------------
    async def ready(self) -> Outcome | None:
        """None when the runtime reached /next; an INIT_ERROR or EXITED outcome otherwise."""
        return await asyncio.shield(self._ready)

    def deliver(self, inv: Invocation) -> asyncio.Future[Outcome]:
        """Hand `inv` to the parked /next; the future resolves with the runtime's answer."""
        if self.state is not RtState.READY or self._parked is None:
            raise RuntimeGone(f"runtime not ready (state {self.state.value})")
        self.state = transition(self.state, RtEvent.DELIVER).state
        self._current = inv
        answer: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._answer = answer
        parked, self._parked = self._parked, None
        if not parked.done():
            parked.set_result(Response(200, inv.payload, _next_headers(inv)))
        return answer

    async def invoke(self, inv: Invocation) -> Outcome:
        return await self.deliver(inv)

    def exited(self) -> None:
        """The process is gone: fail whoever is waiting."""
        self.state = transition(self.state, RtEvent.EXIT).state
        gone = Outcome(Kind.EXITED)
        if not self._ready.done():
            self._ready.set_result(gone)
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(gone)
        if self._parked is not None and not self._parked.done():
            self._parked.cancel()
        self._parked = None

    # -- the runtime's side (HTTP) ---------------------------------------------------------
    async def handle(self, req: Request) -> Response:
        answer = self.handle_fast(req)
        return answer if isinstance(answer, Response) else await answer

    def handle_fast(self, req: Request) -> Response | asyncio.Future[Response]:
        """Every Runtime API route answers without a task: at once, or when a parked /next
        receives its invocation."""
        path = req.raw_path
        if not path.startswith(PREFIX):
            return _error(404, "NotFound", f"No route for {req.method} {path}")
        rest = path[len(PREFIX) :]
        if rest == "invocation/next" and req.method == "GET":
            return self._next(req)
        if rest == "init/error" and req.method == "POST":
            return self._init_error(req)
        parts = rest.split("/")
        if len(parts) == 3 and parts[0] == "invocation" and req.method == "POST":
            if parts[2] == "response":
                return self._respond(parts[1], req)
            if parts[2] == "error":
                return self._error(parts[1], req)
        return _error(404, "NotFound", f"No route for {req.method} {path}")

    def _next(self, req: Request) -> Response | asyncio.Future[Response]:
        if self._parked is not None and not self._parked.done():
            # A second /next while one is parked: the first client must be gone.
            self._parked.cancel()
            self._parked = None
        outcome = transition(self.state, RtEvent.NEXT)
        if outcome.answer is not Answer.PARK:
            return self._refuse(RtEvent.NEXT)
        first = self.state is RtState.STARTING
        self.state = outcome.state
        self._current = None
        # The parked future is the response itself: `deliver` completes it with the event.
        fut: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._parked = fut
        if first and not self._ready.done():
            self._ready.set_result(None)
        elif self._on_idle is not None:
            self._on_idle()
        return fut

    def _respond(self, request_id: str, req: Request) -> Response:
        if self._current is None or request_id != self._current.request_id:
            return _error(400, "InvalidRequestID", "Invalid request ID")
        error_type = req.trailers.get("lambda-runtime-function-error-type")
        if error_type is not None:
            return self._finish(RtEvent.ERROR, Outcome(Kind.ERROR, _trailer_body(req), error_type))
        if len(req.body) > self._max_response:
            outcome = transition(self.state, RtEvent.RESPONSE_TOO_LARGE)
            if outcome.answer is not Answer.TOO_LARGE:
                return self._refuse(RtEvent.RESPONSE_TOO_LARGE)
            self._complete(outcome.state, Outcome(Kind.TOO_LARGE))
            return _error(
                413,
                "RequestEntityTooLarge",
                f"Exceeded maximum allowed payload size ({self._max_response} bytes).",
            )
        return self._finish(RtEvent.RESPONSE, Outcome(Kind.RESPONSE, req.body))

    def _error(self, request_id: str, req: Request) -> Response:
        if self._current is None or request_id != self._current.request_id:
            return _error(400, "InvalidRequestID", "Invalid request ID")
        error_type = req.headers.get("lambda-runtime-function-error-type")
        return self._finish(RtEvent.ERROR, Outcome(Kind.ERROR, req.body, error_type))

    def _init_error(self, req: Request) -> Response:
        outcome = transition(self.state, RtEvent.INIT_ERROR)
        if outcome.answer is not Answer.ACCEPTED:
            return self._refuse(RtEvent.INIT_ERROR)
        self.state = outcome.state
        error_type = req.headers.get("lambda-runtime-function-error-type")
        result = Outcome(Kind.INIT_ERROR, req.body, error_type)
        if not self._ready.done():
            self._ready.set_result(result)
        return Response(202, _ACCEPTED, list(_JSON))

    def _finish(self, event: RtEvent, result: Outcome) -> Response:
        outcome = transition(self.state, event)
        if outcome.answer is not Answer.ACCEPTED:
            return self._refuse(event)
        self._complete(outcome.state, result)
        return Response(202, _ACCEPTED, list(_JSON))

    def _complete(self, state: RtState, result: Outcome) -> None:
        self.state = state
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(result)

    def _refuse(self, event: RtEvent) -> Response:
        return _error(
            403,
            "InvalidStateTransition",
            f"State transition from {self.state.value} on {event.value} failed for runtime.",
        )


def _next_headers(inv: Invocation) -> list[tuple[str, str]]:
    headers = [
        ("Content-Type", "application/json"),
        ("Lambda-Runtime-Aws-Request-Id", inv.request_id),
        ("Lambda-Runtime-Deadline-Ms", str(inv.deadline_ms)),
        ("Lambda-Runtime-Invoked-Function-Arn", inv.invoked_function_arn),
    ]
    if inv.trace_id:
        headers.append(("Lambda-Runtime-Trace-Id", inv.trace_id))
    if inv.client_context:
        headers.append(("Lambda-Runtime-Client-Context", inv.client_context))
    if inv.cognito_identity:
        headers.append(("Lambda-Runtime-Cognito-Identity", inv.cognito_identity))
    return headers


def _trailer_body(req: Request) -> bytes:
    """A streamed response that failed midway carries its error in trailers."""
    import base64
    import binascii

    encoded = req.trailers.get("lambda-runtime-function-error-body")
    if encoded:
        try:
            return base64.b64decode(encoded)
        except (ValueError, binascii.Error):
            return encoded.encode()
    return req.body
