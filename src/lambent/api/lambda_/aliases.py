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

    def create_alias(self, ctx: RequestContext, params: Result) -> Result:
        return self._aliases.create(scope(ctx), params)

    def get_alias(self, ctx: RequestContext, params: Result) -> Result:
        return self._aliases.get(scope(ctx), params["FunctionName"], params["Name"])

    def update_alias(self, ctx: RequestContext, params: Result) -> Result:
        return self._aliases.update(scope(ctx), params)

    def delete_alias(self, ctx: RequestContext, params: Result) -> None:
        self._aliases.delete(scope(ctx), params["FunctionName"], params["Name"])

    def list_aliases(self, ctx: RequestContext, params: Result) -> Result:
        return self._aliases.list(scope(ctx), params)
