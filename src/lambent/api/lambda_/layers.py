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

    def publish_layer_version(self, ctx: RequestContext, params: Result) -> Result:
        return self._layers.publish(scope(ctx), params)

    def get_layer_version(self, ctx: RequestContext, params: Result) -> Result:
        return self._layers.get(scope(ctx), params["LayerName"], int(params["VersionNumber"]))

    def get_layer_version_by_arn(self, ctx: RequestContext, params: Result) -> Result:
        return self._layers.get_by_arn(scope(ctx), params["Arn"])

    def delete_layer_version(self, ctx: RequestContext, params: Result) -> None:
        self._layers.delete(scope(ctx), params["LayerName"], int(params["VersionNumber"]))

    def list_layers(self, ctx: RequestContext, params: Result) -> Result:
        return self._layers.list_layers(scope(ctx), params)

    def list_layer_versions(self, ctx: RequestContext, params: Result) -> Result:
        return self._layers.list_versions(scope(ctx), params)

    def add_layer_version_permission(self, ctx: RequestContext, params: Result) -> Result:
        return self._permissions.add(scope(ctx), params)

    def get_layer_version_policy(self, ctx: RequestContext, params: Result) -> Result:
        return self._permissions.get(scope(ctx), params["LayerName"], int(params["VersionNumber"]))

    def remove_layer_version_permission(self, ctx: RequestContext, params: Result) -> None:
        self._permissions.remove(scope(ctx), params)
