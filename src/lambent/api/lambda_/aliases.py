"""Alias operations."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.lambda_.scope import scope
from lambent.functions.aliases import AliasService
from lambent.functions.catalog import StoreCatalog

Result = dict[str, Any]


class AliasHandlers(ServiceHandlers):
    service = "lambda"

    def __init__(self, catalog: StoreCatalog) -> None:
        self._aliases = AliasService(catalog)

    async def create_alias(self, ctx: RequestContext, params: Result) -> Result:
        return await self._aliases.create(scope(ctx), params)

    async def get_alias(self, ctx: RequestContext, params: Result) -> Result:
        return await self._aliases.get(scope(ctx), params["FunctionName"], params["Name"])

    async def update_alias(self, ctx: RequestContext, params: Result) -> Result:
        return await self._aliases.update(scope(ctx), params)

    async def delete_alias(self, ctx: RequestContext, params: Result) -> None:
        await self._aliases.delete(scope(ctx), params["FunctionName"], params["Name"])

    async def list_aliases(self, ctx: RequestContext, params: Result) -> Result:
        return await self._aliases.list(scope(ctx), params)
