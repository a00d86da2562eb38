"""Layer operations."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.lambda_.scope import scope
from lambent.layers.permissions import LayerPermissions
from lambent.layers.service import LayerService

Result = dict[str, Any]


class LayerHandlers(ServiceHandlers):
    service = "lambda"

    def __init__(self, layers: LayerService) -> None:
        self._layers = layers
        self._permissions = LayerPermissions(layers)

    async def publish_layer_version(self, ctx: RequestContext, params: Result) -> Result:
        return await self._layers.publish(scope(ctx), params)

    async def get_layer_version(self, ctx: RequestContext, params: Result) -> Result:
        return await self._layers.get(scope(ctx), params["LayerName"], int(params["VersionNumber"]))

    async def get_layer_version_by_arn(self, ctx: RequestContext, params: Result) -> Result:
        return await self._layers.get_by_arn(scope(ctx), params["Arn"])

    async def delete_layer_version(self, ctx: RequestContext, params: Result) -> None:
        await self._layers.delete(scope(ctx), params["LayerName"], int(params["VersionNumber"]))

    async def list_layers(self, ctx: RequestContext, params: Result) -> Result:
        return await self._layers.list_layers(scope(ctx), params)

    async def list_layer_versions(self, ctx: RequestContext, params: Result) -> Result:
        return await self._layers.list_versions(scope(ctx), params)

    async def add_layer_version_permission(self, ctx: RequestContext, params: Result) -> Result:
        return await self._permissions.add(scope(ctx), params)

    async def get_layer_version_policy(self, ctx: RequestContext, params: Result) -> Result:
        return await self._permissions.get(
            scope(ctx), params["LayerName"], int(params["VersionNumber"])
        )

    async def remove_layer_version_permission(self, ctx: RequestContext, params: Result) -> None:
        await self._permissions.remove(scope(ctx), params)
