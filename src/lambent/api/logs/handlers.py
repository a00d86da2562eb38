"""CloudWatch Logs operations on the wire.

The log store keeps long scans off the event loop that serves invokes (SQLite on worker
threads; PostgreSQL awaits its queries and matches patterns on a worker thread).
"""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.logs.catalog import LogCatalog, group_name
from lambent.logs.events import LogEvents


class LogsHandlers(ServiceHandlers):
    service = "logs"

    def __init__(self, catalog: LogCatalog, events: LogEvents) -> None:
        self._catalog = catalog
        self._events = events

    async def create_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._catalog.create_group(ctx.account_id, params["logGroupName"])

    async def delete_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._catalog.delete_group(ctx.account_id, params["logGroupName"])

    async def put_retention_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._catalog.set_retention(
            ctx.account_id,
            params["logGroupName"],
            int(params["retentionInDays"]),
        )

    async def delete_retention_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._catalog.set_retention(ctx.account_id, params["logGroupName"], None)

    async def create_log_stream(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._catalog.create_stream(
            ctx.account_id,
            params["logGroupName"],
            params["logStreamName"],
        )

    async def delete_log_stream(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._catalog.delete_stream(
            ctx.account_id,
            params["logGroupName"],
            params["logStreamName"],
        )

    async def describe_log_groups(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._catalog.describe_groups(ctx.account_id, ctx.region, params)

    async def describe_log_streams(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        group_name(ctx.account_id, params)  # parameter errors before a thread hop
        return await self._catalog.describe_streams(ctx.account_id, ctx.region, params)

    async def put_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._events.put(ctx.account_id, params)

    async def get_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._events.get(ctx.account_id, params)

    async def filter_log_events(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._events.filter(ctx.account_id, params)
