"""Concurrency, account settings and asynchronous invocation settings."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.lambda_.scope import scope
from lambent.functions.catalog import StoreCatalog
from lambent.functions.concurrency import ConcurrencyService
from lambent.functions.invoke_config import InvokeConfigService
from lambent.layers.repository import LayerRepository

Result = dict[str, Any]


class ConcurrencyHandlers(ServiceHandlers):
    service = "lambda"

    def __init__(self, catalog: StoreCatalog, layers: LayerRepository) -> None:
        self._svc = ConcurrencyService(catalog, layers)

    async def put_function_concurrency(self, ctx: RequestContext, params: Result) -> Result:
        return await self._svc.put_reserved(
            scope(ctx), params["FunctionName"], int(params["ReservedConcurrentExecutions"])
        )

    async def get_function_concurrency(self, ctx: RequestContext, params: Result) -> Result:
        return await self._svc.get_reserved(scope(ctx), params["FunctionName"])

    async def delete_function_concurrency(self, ctx: RequestContext, params: Result) -> None:
        await self._svc.delete_reserved(scope(ctx), params["FunctionName"])

    async def put_provisioned_concurrency_config(
        self, ctx: RequestContext, params: Result
    ) -> Result:
        return await self._svc.put_provisioned(scope(ctx), params)

    async def get_provisioned_concurrency_config(
        self, ctx: RequestContext, params: Result
    ) -> Result:
        return await self._svc.get_provisioned(
            scope(ctx), params["FunctionName"], params["Qualifier"]
        )

    async def delete_provisioned_concurrency_config(
        self, ctx: RequestContext, params: Result
    ) -> None:
        await self._svc.delete_provisioned(scope(ctx), params["FunctionName"], params["Qualifier"])

    async def list_provisioned_concurrency_configs(
        self, ctx: RequestContext, params: Result
    ) -> Result:
        return await self._svc.list_provisioned(scope(ctx), params)

    async def get_account_settings(self, ctx: RequestContext, params: Result) -> Result:
        return await self._svc.account_settings(scope(ctx))


class InvokeConfigHandlers(ServiceHandlers):
    service = "lambda"

    def __init__(self, catalog: StoreCatalog) -> None:
        self._svc = InvokeConfigService(catalog)

    async def put_function_event_invoke_config(self, ctx: RequestContext, params: Result) -> Result:
        return await self._svc.put(scope(ctx), params)

    async def update_function_event_invoke_config(
        self, ctx: RequestContext, params: Result
    ) -> Result:
        return await self._svc.update(scope(ctx), params)

    async def get_function_event_invoke_config(self, ctx: RequestContext, params: Result) -> Result:
        return await self._svc.get(scope(ctx), params["FunctionName"], params.get("Qualifier"))

    async def delete_function_event_invoke_config(
        self, ctx: RequestContext, params: Result
    ) -> None:
        await self._svc.delete(scope(ctx), params["FunctionName"], params.get("Qualifier"))

    async def list_function_event_invoke_configs(
        self, ctx: RequestContext, params: Result
    ) -> Result:
        return await self._svc.list(scope(ctx), params)
