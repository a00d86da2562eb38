"""From an HTTP request to a handler call and back, for every modelled operation.

Which service: the SigV4 credential scope names it; without one, `X-Amz-Target` means SQS
for `AmazonSQS.*` (a queue URL's path too), Secrets Manager for `secretsmanager.*`, else
Logs, a form `Action` means IAM, STS or SQS (by the action; SQS answers it in its query
protocol, `protocols/sqs_query.py`), anything else is Lambda. Which operation: the
compiled routes (rest-json, rest-xml), the `Action` (query) or the target (json). Then parse,
validate, call the handler method named after the operation (`CreateFunction` ->
`create_function`) on the handler object registered for that service, and serialize.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

from botocore import xform_name
from botocore.model import OperationModel, ServiceModel

from lambent.api import validation
from lambent.api.context import RequestContext
from lambent.api.errors import error_response
from lambent.api.model import Models
from lambent.api.protocols import jsonrpc, query, restjson, restxml
from lambent.api.protocols.sqs_query import query_model as sqs_query_model
from lambent.api.routing import Router
from lambent.auth.authenticator import Authenticator, Caller
from lambent.errors import (
    InternalFailure,
    NotImplementedOperation,
    ServiceError,
    TooManyRequests,
    UnknownOperation,
)
from lambent.http.messages import Handler, Request, Response
from lambent.oplog import event
from lambent.oplog.access import AccessLog

log = logging.getLogger(__name__)
auth_log = logging.getLogger("lambent.auth")
invoke_log = logging.getLogger("lambent.invocations")
# (response, request id, service, operation): what the access log needs to know.
Dispatched = tuple[Response, str | None, str | None, str | None]

HandlerResult = dict[str, Any] | None
# An extra route keyed "host:<text>" serves every request whose Host header contains <text>
# (function URLs, `<url-id>.lambda-url.<region>...`), ahead of all other routing.
HOST_ROUTE = "host:"
BoundHandler = Callable[[RequestContext, dict[str, Any]], HandlerResult | Awaitable[HandlerResult]]


# A queue URL's path: /ACCOUNT/NAME (SQS's query protocol posts to it).
_QUEUE_PATH = re.compile(r"/\d{12}/[A-Za-z0-9_.-]{1,80}")


class ServiceHandlers:
    """Base for handler objects; `service` names the botocore service they implement.

    `checks_itself` names, per operation, top-level members whose model constraint the
    service checks itself, later and with its own message (Lambda's Runtime enum is an
    InvalidParameterValueException raised after the zip is checked), so the model's
    generic check must not answer first."""

    service: str = ""
    checks_itself: ClassVar[Mapping[str, frozenset[str]]] = {}


# Answered even by a node that is not serving: its health and its operator's views.
OPERATOR_ROUTES = ("/health", "/_lambent/")
NOT_SERVING_MESSAGE = (
    "This node is not a live member of its cluster; another node can serve the request."
)
_NOT_SERVING_BODY = json.dumps({"Message": NOT_SERVING_MESSAGE}).encode()


def _not_serving() -> Response:
    return Response(503, _NOT_SERVING_BODY, [("Content-Type", "application/json")])


class Dispatcher:
    def __init__(
        self,
        models: Models,
        authenticator: Authenticator,
        handlers: list[ServiceHandlers],
        *,
        default_region: str,
        extra_routes: dict[str, Handler] | None = None,
        access_log: AccessLog | None = None,
        serving: Callable[[], bool] | None = None,
    ) -> None:
        """`serving` false: this node may hold stale caches (in a cluster, its lease
        lapsed): every request but the operator's routes is refused with a 5xx, which
        clients retry, rather than answered from what may be stale."""
        self._serving = serving
        self._models = models
        self._access = access_log
        self._auth = authenticator
        self._region = default_region
        self._routers = {
            name: Router(model)
            for name, model in models.services.items()
            if model.metadata["protocol"] in ("rest-json", "rest-xml")
        }
        self._extra = dict(extra_routes or {})
        # Keys ending in "/" match by prefix; worked out once, not per request.
        self._prefixes = tuple((k, h) for k, h in self._extra.items() if k.endswith("/"))
        self._by_host = [
            (key[len(HOST_ROUTE) :], h)
            for key, h in self._extra.items()
            if key.startswith(HOST_ROUTE)
        ]
        self._sts_ops = set(models.service("sts").operation_names)
        self._sqs_ops = set(models.service("sqs").operation_names)
        self._table: dict[tuple[str, str], tuple[BoundHandler, bool]] = {}
        self._own_checks: dict[tuple[str, str], frozenset[str]] = {}
        for obj in handlers:
            for op_name, members in obj.checks_itself.items():
                self._own_checks[(obj.service, op_name)] = members
            model = models.service(obj.service)
            for op_name in model.operation_names:
                method = getattr(obj, xform_name(op_name), None)
                if method is not None:
                    is_async = inspect.iscoroutinefunction(method)
                    self._table[(obj.service, op_name)] = (method, is_async)

    def implemented(self, service: str) -> list[str]:
        return sorted(op for svc, op in self._table if svc == service)

    async def __call__(self, req: Request) -> Response:
        if self._access is None:
            return (await self._dispatch(req))[0]
        began = time.perf_counter()
        resp, request_id, service, operation = await self._dispatch(req)
        self._access.record(req, resp, began, request_id, service, operation)
        return resp

    async def _dispatch(self, req: Request) -> Dispatched:
        refused = self._serving is not None and not self._serving()
        if self._by_host:
            host = req.headers.get("host", "")
            for marker, by_host in self._by_host:
                if marker in host:
                    return (_not_serving() if refused else await by_host(req)), None, None, None
        extra = self._extra_route(req.raw_path)
        if extra is not None:
            if refused and not req.raw_path.startswith(OPERATOR_ROUTES):
                return _not_serving(), None, None, None
            return await extra(req), None, None, None
        request_id = str(uuid.uuid4())
        service_name = self._service_for(req)
        service = self._models.services.get(service_name)
        if service_name == "sqs" and "x-amz-target" not in req.headers:
            service = sqs_query_model()  # an older SDK: form in, XML out
        operation: str | None = None
        params: dict[str, Any] = {}
        try:
            if refused:
                raise InternalFailure(NOT_SERVING_MESSAGE)
            try:
                caller = await self._auth.authenticate(req)
            except ServiceError as err:
                self._auth_failed(req, err, request_id, service_name)
                raise
            assert service is not None
            op, params = self._parse(service_name, service, req)
            operation = op.name
            ctx = RequestContext(
                request_id=request_id,
                caller=caller,
                region=caller.region or self._region,
                service=service_name,
                operation=op.name,
                request=req,
            )
            result = await self._call(service_name, op, ctx, params)
            resp = self._serialize(service, op, result, request_id)
            if ctx.response_headers:
                resp.headers.extend(ctx.response_headers)
            resp.headers.append(("x-amzn-RequestId", request_id))
            return resp, request_id, service_name, operation
        except ServiceError as err:
            if isinstance(err, TooManyRequests):
                self._throttled(err, request_id, operation, params)
            resp = error_response(service_name, service, err, request_id)
        except Exception:
            event(
                log,
                logging.ERROR,
                "http.internal_error",
                "internal error in %s %s",
                req.method,
                req.raw_path,
                exc_info=True,
                request_id=request_id,
                service=service_name,
                operation=operation,
            )
            failure = InternalFailure("An internal error occurred.")
            resp = error_response(service_name, service, failure, request_id)
        return _bodiless_for_head(req, resp), request_id, service_name, operation

    def _auth_failed(self, req: Request, err: ServiceError, request_id: str, service: str) -> None:
        """A request whose signature or key did not check out: who (the access key id,
        never the secret or the signature), from where, and why."""
        scope = self._auth.scope(req)
        event(
            auth_log,
            logging.WARNING,
            "auth.failed",
            "%s: %s",
            err.code,
            err.message,
            request_id=request_id,
            code=err.code,
            access_key_id=scope.access_key if scope else None,
            client=req.peer[0] if req.peer else None,
            service=service,
            method=req.method,
            path=req.raw_path,
        )

    def _throttled(
        self,
        err: TooManyRequests,
        request_id: str,
        operation: str | None,
        params: dict[str, Any],
    ) -> None:
        function = params.get("FunctionName")
        event(
            invoke_log,
            logging.WARNING,
            "invoke.throttled",
            "%s throttled: %s",
            function or operation,
            err.reason,
            request_id=request_id,
            reason=err.reason,
            function=function,
            operation=operation,
        )

    def _extra_route(self, raw_path: str) -> Handler | None:
        if raw_path in self._extra:
            return self._extra[raw_path]
        for prefix, handler in self._prefixes:
            if raw_path.startswith(prefix):
                return handler
        return None

    def _service_for(self, req: Request) -> str:
        scope = self._auth.scope(req)
        if scope is not None and scope.service in self._models.services:
            if scope.service in ("iam", "sts"):
                return self._query_service(req, scope.service)
            return scope.service
        target = req.headers.get("x-amz-target")
        if target is not None:
            if target.startswith("Kinesis_20131202."):
                return "kinesis"
            if target.startswith("secretsmanager."):
                return "secretsmanager"
            return "sqs" if target.startswith("AmazonSQS.") else "logs"
        if _QUEUE_PATH.fullmatch(req.raw_path.split("?", 1)[0]):
            return "sqs"  # a query-protocol request to a queue URL
        if req.raw_path in ("", "/"):
            return self._query_service(req, "iam")
        return "lambda"

    def _query_service(self, req: Request, signed: str) -> str:
        # IAM, STS and SQS share no action names, so the action decides (unsigned: open mode).
        action = query.form_params(req).get("Action")
        if action in self._sts_ops:
            return "sts"
        return "sqs" if action in self._sqs_ops else "iam"

    def _parse(
        self, service_name: str, model: ServiceModel, req: Request
    ) -> tuple[OperationModel, dict[str, Any]]:
        protocol = model.metadata["protocol"]
        if protocol in ("rest-json", "rest-xml"):
            match = self._routers[service_name].match(
                req.method, req.raw_path, req.raw_query, req.headers
            )
            if match is None:
                raise UnknownOperation(f"Unknown operation {req.method} {req.raw_path}")
            op = match.operation
            if protocol == "rest-xml":
                params = restxml.parse_request(op, req, match.path_params)
            else:
                params = restjson.parse_request(op, req, match.path_params)
        elif protocol == "query":
            form = query.form_params(req)
            op = self._operation(model, form.get("Action"))
            params = query.parse_request(op, form)
            if (
                service_name == "sqs"
                and "QueueUrl" not in params
                and _QUEUE_PATH.fullmatch(req.raw_path)
            ):  # posted to the queue's URL itself
                params["QueueUrl"] = f"http://{req.headers.get('host', '')}{req.raw_path}"
        else:
            op = self._operation(model, jsonrpc.operation_name(req))
            params = jsonrpc.parse_request(op, req)
        skip = self._own_checks.get((service_name, op.name))
        validation.validate(op.input_shape, params, skip=skip)
        return op, params

    def _operation(self, model: ServiceModel, name: str | None) -> OperationModel:
        if not name or name not in model.operation_names:
            raise UnknownOperation(f"Could not find operation {name}")
        return model.operation_model(name)

    async def _call(
        self, service: str, op: OperationModel, ctx: RequestContext, params: dict[str, Any]
    ) -> HandlerResult:
        entry = self._table.get((service, op.name))
        if entry is None:
            raise NotImplementedOperation(service, op.name)
        method, is_async = entry
        result = method(ctx, params)
        if is_async:
            result = await result  # type: ignore[misc]
        return result  # type: ignore[return-value]

    def _serialize(
        self, model: ServiceModel, op: OperationModel, result: HandlerResult, request_id: str
    ) -> Response:
        protocol = model.metadata["protocol"]
        if protocol == "rest-json":
            return restjson.serialize_response(op, result)
        if protocol == "rest-xml":
            return restxml.serialize_response(op, result, request_id)
        if protocol == "query":
            return query.serialize_response(
                op, result, model.metadata.get("xmlNamespace", ""), request_id
            )
        return jsonrpc.serialize_response(model, op, result)


def _bodiless_for_head(req: Request, resp: Response) -> Response:
    """A HEAD answer never has a body: clients read the error from the status alone."""
    if req.method == "HEAD":
        resp.body = b""
    return resp


def anonymous(account: str) -> Caller:
    return Caller(account, f"arn:aws:iam::{account}:root", account, None, None, None)
