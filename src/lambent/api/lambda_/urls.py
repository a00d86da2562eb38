"""Function URL operations, and the routes that serve the URLs themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import HOST_ROUTE, ServiceHandlers
from lambent.api.lambda_.scope import scope
from lambent.function_urls import addresses
from lambent.function_urls.gateway import FunctionUrlGateway, GatewayDeps
from lambent.function_urls.service import FunctionUrlService
from lambent.http.messages import Handler

if TYPE_CHECKING:
    from lambent.app import App

Result = dict[str, Any]


class FunctionUrlHandlers(ServiceHandlers):
    service = "lambda"

    def __init__(self, urls: FunctionUrlService) -> None:
        self._urls = urls

    async def create_function_url_config(self, ctx: RequestContext, params: Result) -> Result:
        return await self._urls.create(scope(ctx), params)

    async def get_function_url_config(self, ctx: RequestContext, params: Result) -> Result:
        return await self._urls.get(scope(ctx), params)

    async def update_function_url_config(self, ctx: RequestContext, params: Result) -> Result:
        return await self._urls.update(scope(ctx), params)

    async def delete_function_url_config(self, ctx: RequestContext, params: Result) -> None:
        await self._urls.delete(scope(ctx), params)

    async def list_function_url_configs(self, ctx: RequestContext, params: Result) -> Result:
        return await self._urls.list(scope(ctx), params)


def url_routes(app: App) -> dict[str, Handler]:
    """The URLs themselves: by path (`/_lambent/url/<id>/`) and by Host (`<id>.lambda-url.`)."""
    deps = GatewayDeps(app.urls, app.invoker, app.authenticator, app.clock, app.settings.port)
    gateway = FunctionUrlGateway(deps)
    return {addresses.PATH_PREFIX: gateway, HOST_ROUTE + addresses.HOST_MARKER: gateway}
