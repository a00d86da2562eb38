"""Event source mapping operations."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.lambda_.scope import scope
from lambent.event_sources.service import EventSourceMappings

Result = dict[str, Any]


class EventSourceMappingHandlers(ServiceHandlers):
    service = "lambda"

    def __init__(self, mappings: EventSourceMappings) -> None:
        self._mappings = mappings

    async def create_event_source_mapping(self, ctx: RequestContext, params: Result) -> Result:
        return await self._mappings.create(scope(ctx), params)

    async def get_event_source_mapping(self, ctx: RequestContext, params: Result) -> Result:
        return await self._mappings.get(scope(ctx), params["UUID"])

    async def update_event_source_mapping(self, ctx: RequestContext, params: Result) -> Result:
        return await self._mappings.update(scope(ctx), params)

    async def delete_event_source_mapping(self, ctx: RequestContext, params: Result) -> Result:
        return await self._mappings.delete(scope(ctx), params["UUID"])

    async def list_event_source_mappings(self, ctx: RequestContext, params: Result) -> Result:
        return await self._mappings.list(scope(ctx), params)
