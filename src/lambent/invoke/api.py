"""The Invoke operation's handler: a thin layer over InvokeService.

Payload bytes go from the request body to the runtime and back without being decoded.
"""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.errors import InvalidParameterValue
from lambent.invoke.service import InvokeCall, InvokeService


class InvokeHandlers(ServiceHandlers):
    service = "lambda"

    def __init__(self, invoker: InvokeService) -> None:
        self._invoker = invoker

    async def invoke(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        invocation_type = params.get("InvocationType") or "RequestResponse"
        payload: bytes = params.get("Payload") or b""
        call = InvokeCall(
            account_id=ctx.account_id,
            function=params["FunctionName"],
            qualifier=params.get("Qualifier"),
            payload=payload,
            request_id=ctx.request_id,
            log_tail=params.get("LogType") == "Tail",
            client_context_b64=params.get("ClientContext"),
            trace_id=ctx.request.headers.get("x-amzn-trace-id"),
        )
        if invocation_type == "DryRun":
            resolved = self._invoker.resolve(call.account_id, call.function, call.qualifier)
            self._invoker.check_ready(resolved.version)
            return {"StatusCode": 204}
        if invocation_type == "Event":
            raise InvalidParameterValue("Asynchronous invocation is not enabled on this server.")
        result = await self._invoker.invoke(call)
        ctx.response_headers.append(("Content-Type", "application/json"))
        out: dict[str, Any] = {
            "StatusCode": 200,
            "ExecutedVersion": result.executed_version,
            "Payload": result.payload,
        }
        if result.function_error:
            out["FunctionError"] = result.function_error
        if result.log_tail is not None:
            out["LogResult"] = result.log_tail
        return out
