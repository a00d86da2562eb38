"""Resource policy operations."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.lambda_.scope import scope
from lambent.functions.catalog import StoreCatalog
from lambent.functions.policy import PolicyService

Result = dict[str, Any]


class PolicyHandlers(ServiceHandlers):
    service = "lambda"

    def __init__(self, catalog: StoreCatalog) -> None:
        self._policies = PolicyService(catalog)

    async def add_permission(self, ctx: RequestContext, params: Result) -> Result:
        return await self._policies.add(scope(ctx), params)

    async def remove_permission(self, ctx: RequestContext, params: Result) -> None:
        await self._policies.remove(scope(ctx), params)

    async def get_policy(self, ctx: RequestContext, params: Result) -> Result:
        return await self._policies.get(scope(ctx), params["FunctionName"], params.get("Qualifier"))
