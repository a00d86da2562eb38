"""Recursive loop detection settings."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.lambda_.scope import scope
from lambent.functions.catalog import StoreCatalog
from lambent.functions.recursion_config import RecursionConfigService

Result = dict[str, Any]


class RecursionConfigHandlers(ServiceHandlers):
    service = "lambda"

    def __init__(self, catalog: StoreCatalog) -> None:
        self._svc = RecursionConfigService(catalog)

    async def put_function_recursion_config(self, ctx: RequestContext, params: Result) -> Result:
        return await self._svc.put(scope(ctx), params["FunctionName"], params["RecursiveLoop"])

    async def get_function_recursion_config(self, ctx: RequestContext, params: Result) -> Result:
        return await self._svc.get(scope(ctx), params["FunctionName"])
