"""The function URL endpoint: an HTTP request in, the function's HTTP response out.

    which URL (Host or path) -> CORS preflight -> auth (SigV4 | resource policy)
      -> payload-2.0 event -> InvokeService (leases, concurrency, throttles) -> response

A URL request costs one store read for its configuration and one for the resource
policy (policies change through AddPermission, which tells nobody), plus the invoke.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from lambent.api.errors import wire_error
from lambent.auth.authenticator import Authenticator, Caller
from lambent.clock import Clock
from lambent.errors import ServiceError, TooManyRequests
from lambent.function_urls import access, addresses, cors, response
from lambent.function_urls.event import EventContext, event_payload, iam_authorizer
from lambent.function_urls.model import UrlConfig
from lambent.function_urls.response import BadResponse, HttpAnswer
from lambent.function_urls.service import FunctionUrlService
from lambent.functions.model import LATEST
from lambent.http.messages import Request, Response
from lambent.invoke.service import InvokeCall, InvokeService, trace_id
from lambent.oplog import event

log = logging.getLogger(__name__)

FORBIDDEN = (
    "Forbidden. For troubleshooting Function URL authorization issues, see: "
    "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"
)


class Refused(Exception):
    def __init__(self, answer: HttpAnswer) -> None:
        super().__init__(answer.status)
        self.answer = answer


def forbidden(message: str | None = FORBIDDEN) -> Refused:
    return Refused(response.error(403, "AccessDeniedException", message))


@dataclass(frozen=True)
class GatewayDeps:
    urls: FunctionUrlService
    invoker: InvokeService
    authenticator: Authenticator
    clock: Clock
    port: int


class FunctionUrlGateway:
    def __init__(self, deps: GatewayDeps) -> None:
        self._urls = deps.urls
        self._invoker = deps.invoker
        self._auth = deps.authenticator
        self._clock = deps.clock
        self._port = str(deps.port)

    async def __call__(self, req: Request) -> Response:
        request_id = str(uuid.uuid4())
        trace = req.headers.get("x-amzn-trace-id") or trace_id(self._clock.time())
        try:
            answer = await self._serve(req, request_id, trace)
        except Refused as refused:
            answer = refused.answer
        except Exception:
            log.exception("function URL request %s %s failed", req.method, req.raw_path)
            answer = response.error(500, "ServiceException", "Internal Server Error")
        headers = [*answer.headers, ("x-amzn-RequestId", request_id)]
        if answer.status < 400 or answer.status == 502:
            headers.append(("X-Amzn-Trace-Id", trace))
        body = b"" if req.method == "HEAD" else answer.body
        return Response(answer.status, body, headers)

    async def _address(self, req: Request) -> tuple[UrlConfig, str]:
        where = addresses.from_host(req.headers.get("host", ""), req.raw_path)
        if where is None:
            where = addresses.from_path(req.raw_path)
        config = None if where is None else await self._urls.find(where.url_id)
        if where is None or config is None or where.region not in (None, config.region):
            # What AWS answers for a URL that does not exist (or no longer does).
            raise forbidden(None)
        return config, where.raw_path

    async def _serve(self, req: Request, request_id: str, trace: str) -> HttpAnswer:
        config, raw_path = await self._address(req)
        if config.cors is not None and cors.is_preflight(req.method, req.headers):
            return cors.preflight(config.cors, req.headers)
        caller = await self._authorize(req, config, request_id)
        now = self._clock.time()
        ctx = EventContext(
            url_id=config.url_id,
            account_id="anonymous" if caller is None else caller.account_id,
            request_id=request_id,
            now=now,
            raw_path=raw_path,
            source_ip=req.peer[0] if req.peer else "",
            trace_id=trace,
            forwarded_port=self._port,
            authorizer=None
            if caller is None
            else iam_authorizer(
                caller.access_key, caller.account_id, caller.user_id, caller.principal_arn
            ),
        )
        answer = await self._invoke(config, event_payload(req, ctx), request_id, trace)
        if config.cors is not None:
            answer = cors.decorate(config.cors, req.headers.get("origin"), answer)
        return answer

    async def _authorize(self, req: Request, config: UrlConfig, request_id: str) -> Caller | None:
        """The signed caller for AWS_IAM, None for NONE; raises Refused (403)."""
        if config.auth_type != "AWS_IAM":
            if not access.allows(await self._urls.policy(config), None, "NONE"):
                raise forbidden()
            return None
        scope = self._auth.scope(req)
        if scope is None or scope.service != "lambda":
            raise forbidden()
        try:
            caller = await self._auth.authenticate(req)
        except ServiceError as err:
            event(
                logging.getLogger("lambent.auth"),
                logging.WARNING,
                "auth.failed",
                "%s: %s (function URL %s)",
                err.code,
                err.message,
                config.url_id,
                request_id=request_id,
                code=err.code,
                access_key_id=scope.access_key,
                client=req.peer[0] if req.peer else None,
                url_id=config.url_id,
            )
            raise Refused(response.error(403, err.code, err.message)) from err
        principal = access.Principal(caller.account_id, caller.principal_arn)
        if caller.account_id != config.account and not access.allows(
            await self._urls.policy(config), principal, "AWS_IAM"
        ):
            raise forbidden()
        return caller

    async def _invoke(
        self, config: UrlConfig, payload: bytes, request_id: str, trace: str
    ) -> HttpAnswer:
        call = InvokeCall(
            account_id=config.account,
            function=config.function,
            qualifier=None if config.qualifier == LATEST else config.qualifier,
            payload=payload,
            request_id=request_id,
            trace_id=trace,
        )
        try:
            result = await self._invoker.invoke(call)
        except ServiceError as err:
            # Throttles (429), a deleted alias, a payload over 6 MB: Lambda's own refusal.
            if isinstance(err, TooManyRequests):
                event(
                    logging.getLogger("lambent.invocations"),
                    logging.WARNING,
                    "invoke.throttled",
                    "%s throttled: %s (function URL %s)",
                    config.function,
                    err.reason,
                    config.url_id,
                    request_id=request_id,
                    reason=err.reason,
                    function=config.function,
                    url_id=config.url_id,
                )
            wire = wire_error("lambda", err)
            answer = response.error(wire.status, wire.code, err.message)
            answer.headers.extend(wire.headers)
            return answer
        if result.failed:
            return response.failed()
        try:
            return response.from_payload(result.payload)
        except BadResponse as exc:
            log.info("function URL %s: %s", config.url_id, exc)
            return response.failed()
