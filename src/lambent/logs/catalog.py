"""Log groups and streams through the API: create, delete, describe, retention.

The same on every backend: the store (interface.LogStore) only runs the queries."""

from __future__ import annotations

from typing import Any

from lambent.logs import naming, retention, tokens
from lambent.logs.errors import (
    GROUP_EXISTS,
    GROUP_MISSING,
    already_exists,
    invalid_parameter,
    not_found,
)
from lambent.logs.interface import LogStore

DESCRIBE_LIMIT = 50


def group_name(account: str, params: dict[str, Any]) -> str:
    """The group a request names, by logGroupName or logGroupIdentifier (a name or ARN)."""
    name = params.get("logGroupName")
    ident = params.get("logGroupIdentifier")
    if name and ident:
        raise invalid_parameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if name:
        return str(name)
    if not ident:
        raise invalid_parameter("Should provide either name or identifier.")
    text = str(ident)
    if not text.startswith("arn:"):
        return text
    head, sep, rest = text.partition(":log-group:")
    parts = head.split(":")
    if not sep or len(parts) < 5 or parts[4] != account:
        raise not_found(GROUP_MISSING)
    return rest.removesuffix(":*")


class LogCatalog:
    def __init__(self, store: LogStore) -> None:
        self._store = store

    def _now_ms(self) -> int:
        return int(self._store.clock.time() * 1000)

    async def create_group(self, account: str, name: str) -> None:
        if not await self._store.create_group(account, name, self._now_ms()):
            raise already_exists(GROUP_EXISTS)

    async def delete_group(self, account: str, name: str) -> None:
        if not await self._store.delete_group(account, name):
            raise not_found(GROUP_MISSING)

    async def set_retention(self, account: str, name: str, days: int | None) -> None:
        if days is not None:
            retention.check_days(days)
        if not await self._store.set_retention(account, name, days):
            raise not_found(GROUP_MISSING)

    async def create_stream(self, account: str, group: str, stream: str) -> None:
        await self._store.create_stream(account, group, stream, self._now_ms())

    async def delete_stream(self, account: str, group: str, stream: str) -> None:
        await self._store.delete_stream(account, group, stream)

    async def describe_groups(
        self, account: str, region: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        limit = int(params.get("limit") or DESCRIBE_LIMIT)
        token = params.get("nextToken")
        after = str(tokens.parse_opaque(token)) if token else None
        prefix = str(params.get("logGroupNamePrefix") or "")
        if prefix and params.get("logGroupNamePattern"):
            raise invalid_parameter(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        default = self._store.settings.default_retention_days
        contains = params.get("logGroupNamePattern")
        rows = await self._store.groups(account, prefix, contains, after, limit + 1)
        out: list[dict[str, Any]] = []
        for row in rows[:limit]:
            arn = naming.group_arn(region, account, row.name)
            out.append(
                {
                    "logGroupName": row.name,
                    "creationTime": row.created_ms,
                    "retentionInDays": retention.effective_days(row.retention_days, default),
                    "metricFilterCount": 0,
                    "arn": f"{arn}:*",
                    "logGroupArn": arn,
                    "storedBytes": row.stored_bytes,
                    "logGroupClass": "STANDARD",
                }
            )
        result: dict[str, Any] = {"logGroups": out}
        if len(rows) > limit:
            result["nextToken"] = tokens.opaque(rows[limit - 1].name)
        return result

    async def describe_streams(
        self, account: str, region: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        group = group_name(account, params)
        by_last = params.get("orderBy") == "LastEventTime"
        prefix = str(params.get("logStreamNamePrefix") or "")
        if by_last and prefix:
            raise invalid_parameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
        descending = bool(params.get("descending"))
        limit = int(params.get("limit") or DESCRIBE_LIMIT)
        token = params.get("nextToken")
        after = tokens.parse_opaque(token) if token else None
        if after is not None and not isinstance(after, list):
            raise invalid_parameter("The specified nextToken is invalid.")
        rows = await self._store.streams(
            account, group, prefix, by_last, descending, after, limit + 1
        )
        page = rows[:limit]
        for item in page:
            item["arn"] = naming.stream_arn(region, account, group, item["logStreamName"])
        result: dict[str, Any] = {"logStreams": page}
        if len(rows) > limit:
            last = page[-1]
            key: list[Any] = [last["logStreamName"]]
            if by_last:
                key.insert(0, last.get("lastEventTimestamp", 0))
            result["nextToken"] = tokens.opaque(key)
        return result
