"""Function, version and tag operations."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.lambda_.scope import scope
from lambent.functions.service import FunctionService
from lambent.functions.tags import TagService
from lambent.layers.repository import LayerRepository

Result = dict[str, Any]


class FunctionHandlers(ServiceHandlers):
    service = "lambda"
    # Lambda answers an unknown runtime itself (functions/runtimes.py), after the zip.
    checks_itself = {
        "CreateFunction": frozenset({"Runtime"}),
        "UpdateFunctionConfiguration": frozenset({"Runtime"}),
    }

    def __init__(self, functions: FunctionService, layers: LayerRepository) -> None:
        self._fns = functions
        self._tags = TagService(functions.cp.catalog)
        self._layers = layers

    async def create_function(self, ctx: RequestContext, params: Result) -> Result:
        zip_file = (params.get("Code") or {}).get("ZipFile")
        self._fns.cp.uploads.check_request(len(ctx.request.body), "CreateFunction", zip_file)
        return await self._fns.create(scope(ctx), params, ctx.request_id)

    async def get_function(self, ctx: RequestContext, params: Result) -> Result:
        return await self._fns.get(scope(ctx), params["FunctionName"], params.get("Qualifier"))

    async def get_function_configuration(self, ctx: RequestContext, params: Result) -> Result:
        return await self._fns.get_configuration(
            scope(ctx), params["FunctionName"], params.get("Qualifier")
        )

    async def list_functions(self, ctx: RequestContext, params: Result) -> Result:
        return await self._fns.list_functions(scope(ctx), params)

    async def update_function_code(self, ctx: RequestContext, params: Result) -> Result:
        self._fns.cp.uploads.check_request(
            len(ctx.request.body), "UpdateFunctionCode", params.get("ZipFile")
        )
        return await self._fns.update_code(scope(ctx), params, ctx.request_id)

    async def update_function_configuration(self, ctx: RequestContext, params: Result) -> Result:
        return await self._fns.update_configuration(scope(ctx), params)

    async def delete_function(self, ctx: RequestContext, params: Result) -> Result:
        await self._fns.delete(scope(ctx), params["FunctionName"], params.get("Qualifier"))
        return {"StatusCode": 204}

    async def publish_version(self, ctx: RequestContext, params: Result) -> Result:
        return await self._fns.publish_version(scope(ctx), params)

    async def list_versions_by_function(self, ctx: RequestContext, params: Result) -> Result:
        return await self._fns.list_versions(scope(ctx), params)

    async def tag_resource(self, ctx: RequestContext, params: Result) -> None:
        await self._tags.tag(scope(ctx), params["Resource"], dict(params.get("Tags") or {}))

    async def untag_resource(self, ctx: RequestContext, params: Result) -> None:
        await self._tags.untag(scope(ctx), params["Resource"], list(params.get("TagKeys") or []))

    async def list_tags(self, ctx: RequestContext, params: Result) -> Result:
        return await self._tags.list(scope(ctx), params["Resource"])
