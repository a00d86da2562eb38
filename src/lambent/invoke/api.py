"""The Invoke operation's handler: a thin layer over InvokeService.

Payload bytes go from the request body to the runtime and back without being decoded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.errors import InvalidParameterValue
from lambent.function_urls.access import Principal
from lambent.invoke import cross_account
from lambent.invoke.service import InvokeCall, InvokeService

if TYPE_CHECKING:
    from lambent.async_invoke.service import AsyncInvocations
    from lambent.functions.catalog import StoreCatalog


class InvokeHandlers(ServiceHandlers):
    service = "lambda"

    def __init__(
        self,
        invoker: InvokeService,
        events: AsyncInvocations | None = None,
        catalog: StoreCatalog | None = None,
    ) -> None:
        self._invoker = invoker
        self._events = events
        self._catalog = catalog

    async def _account(self, ctx: RequestContext, function: str, qualifier: str | None) -> str:
        """Whose function the call runs: another account's only if its policy allows."""
        if self._catalog is None or ":" not in function:
            return ctx.account_id  # a plain name is the caller's (the hot path)
        caller = Principal(ctx.account_id, ctx.caller.principal_arn)
        return await cross_account.owner(self._catalog, caller, function, qualifier, ctx.region)

    async def invoke(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        invocation_type = params.get("InvocationType") or "RequestResponse"
        # An invoke without a payload hands the function `{}`, as Lambda does.
        payload: bytes = params.get("Payload") or b"{}"
        self._invoker.check_payload(payload, event=invocation_type == "Event")
        call = InvokeCall(
            account_id=await self._account(ctx, params["FunctionName"], params.get("Qualifier")),
            function=params["FunctionName"],
            qualifier=params.get("Qualifier"),
            payload=payload,
            request_id=ctx.request_id,
            log_tail=params.get("LogType") == "Tail",
            client_context_b64=params.get("ClientContext"),
            trace_id=ctx.request.headers.get("x-amzn-trace-id"),
            region=ctx.region,
        )
        if invocation_type == "DryRun":
            resolved = await self._invoker.resolve(
                call.account_id, call.function, call.qualifier, call.region
            )
            self._invoker.check_ready(resolved.version)
            return {"StatusCode": 204}
        if invocation_type == "Event":
            # 202 once the event is on disk; no FunctionError/ExecutedVersion: nothing ran yet.
            await self._accept(call)
            return {"StatusCode": 202}
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

    async def invoke_async(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """The deprecated InvokeAsync operation: an Event invoke of $LATEST (or the ARN's
        qualifier), answered with Status 202."""
        call = InvokeCall(
            account_id=ctx.account_id,
            function=params["FunctionName"],
            qualifier=None,
            payload=params.get("InvokeArgs") or b"",
            request_id=ctx.request_id,
            trace_id=ctx.request.headers.get("x-amzn-trace-id"),
        )
        await self._accept(call)
        return {"Status": 202}

    async def _accept(self, call: InvokeCall) -> None:
        if self._events is None:
            raise InvalidParameterValue("Asynchronous invocation is not enabled on this server.")
        await self._events.accept(call)
