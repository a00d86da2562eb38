"""Code signing config operations."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.lambda_.scope import scope
from lambent.code_signing.configs import CodeSigningConfigs

Result = dict[str, Any]


class CodeSigningHandlers(ServiceHandlers):
    service = "lambda"

    def __init__(self, configs: CodeSigningConfigs) -> None:
        self._configs = configs

    async def create_code_signing_config(self, ctx: RequestContext, params: Result) -> Result:
        return await self._configs.create(scope(ctx), params)

    async def get_code_signing_config(self, ctx: RequestContext, params: Result) -> Result:
        return await self._configs.get(scope(ctx), params["CodeSigningConfigArn"])

    async def update_code_signing_config(self, ctx: RequestContext, params: Result) -> Result:
        return await self._configs.update(scope(ctx), params)

    async def delete_code_signing_config(self, ctx: RequestContext, params: Result) -> None:
        await self._configs.delete(scope(ctx), params["CodeSigningConfigArn"])

    async def list_code_signing_configs(self, ctx: RequestContext, params: Result) -> Result:
        return await self._configs.list_configs(scope(ctx), params)

    async def list_functions_by_code_signing_config(
        self, ctx: RequestContext, params: Result
    ) -> Result:
        return await self._configs.functions_using(scope(ctx), params)

    async def put_function_code_signing_config(self, ctx: RequestContext, params: Result) -> Result:
        return await self._configs.put_function(
            scope(ctx), params["FunctionName"], params["CodeSigningConfigArn"]
        )

    async def get_function_code_signing_config(self, ctx: RequestContext, params: Result) -> Result:
        return await self._configs.get_function(scope(ctx), params["FunctionName"])

    async def delete_function_code_signing_config(
        self, ctx: RequestContext, params: Result
    ) -> None:
        await self._configs.delete_function(scope(ctx), params["FunctionName"])
