"""EventBridge Scheduler operations on the wire: thin, over schedules/service.py."""

from __future__ import annotations

from typing import Any

from lambent import paging
from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.schedules import errors
from lambent.schedules.backend import Doc
from lambent.schedules.service import Schedules

SUMMARY = ("Arn", "CreationDate", "GroupName", "LastModificationDate", "Name", "State")


def _page(items: list[Doc], key: str, params: dict[str, Any]) -> tuple[list[Doc], str | None]:
    limit = int(params.get("MaxResults") or 100)
    token = params.get("NextToken")
    try:
        after = paging.decode(str(token)) if token else None
    except paging.BadMarker:
        raise errors.invalid("Invalid NextToken.") from None
    shown, more = paging.page(
        items, lambda d: tuple(str(d[k]) for k in key.split(",")), after, limit
    )
    return shown, paging.encode(more) if more is not None else None


def _group_of_arn(arn: str) -> str:
    marker = ":schedule-group/"
    if marker not in arn:
        raise errors.invalid(f"Invalid ResourceArn {arn}.")
    return arn.split(marker, 1)[1]


class SchedulerHandlers(ServiceHandlers):
    service = "scheduler"

    def __init__(self, schedules: Schedules) -> None:
        self._s = schedules

    # -- schedules -------------------------------------------------------------------------
    async def create_schedule(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        doc = await self._s.create(ctx.account_id, ctx.region, p)
        return {"ScheduleArn": doc["Arn"]}

    async def update_schedule(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        doc = await self._s.update(ctx.account_id, ctx.region, p)
        return {"ScheduleArn": doc["Arn"]}

    async def get_schedule(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return await self._s.get(ctx.account_id, p.get("GroupName"), p["Name"])

    async def delete_schedule(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        await self._s.delete(ctx.account_id, p.get("GroupName"), p["Name"])
        return {}

    async def list_schedules(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        docs = await self._s.list(
            ctx.account_id, p.get("GroupName"), p.get("NamePrefix"), p.get("State")
        )
        shown, token = _page(docs, "GroupName,Name", p)
        out: dict[str, Any] = {
            "Schedules": [
                {**{k: d[k] for k in SUMMARY if k in d}, "Target": {"Arn": d["Target"]["Arn"]}}
                for d in shown
            ]
        }
        if token:
            out["NextToken"] = token
        return out

    # -- groups ----------------------------------------------------------------------------
    async def create_schedule_group(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        doc = await self._s.create_group(ctx.account_id, ctx.region, p["Name"], p.get("Tags"))
        return {"ScheduleGroupArn": doc["Arn"]}

    async def get_schedule_group(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        doc = await self._s.group(ctx.account_id, ctx.region, p["Name"])
        return {k: v for k, v in doc.items() if k != "Tags"}

    async def list_schedule_groups(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        docs = await self._s.groups(ctx.account_id, ctx.region)
        prefix = p.get("NamePrefix")
        docs = [d for d in docs if prefix is None or d["Name"].startswith(prefix)]
        shown, token = _page(docs, "Name", p)
        out: dict[str, Any] = {
            "ScheduleGroups": [{k: v for k, v in d.items() if k != "Tags"} for d in shown]
        }
        if token:
            out["NextToken"] = token
        return out

    async def delete_schedule_group(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        await self._s.delete_group(ctx.account_id, p["Name"])
        return {}

    # -- tags (schedule groups carry them) -----------------------------------------------------
    async def list_tags_for_resource(
        self, ctx: RequestContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        doc = await self._s.group(ctx.account_id, ctx.region, _group_of_arn(p["ResourceArn"]))
        return {"Tags": doc.get("Tags", [])}

    async def tag_resource(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        name = _group_of_arn(p["ResourceArn"])
        doc = await self._s.group(ctx.account_id, ctx.region, name)
        tags = {t["Key"]: t["Value"] for t in doc.get("Tags", [])}
        tags.update({t["Key"]: t["Value"] for t in p["Tags"]})
        new = [{"Key": k, "Value": v} for k, v in tags.items()]
        await self._s.set_group_tags(ctx.account_id, ctx.region, name, new)
        return {}

    async def untag_resource(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        name = _group_of_arn(p["ResourceArn"])
        doc = await self._s.group(ctx.account_id, ctx.region, name)
        drop = set(p["TagKeys"])
        new = [t for t in doc.get("Tags", []) if t["Key"] not in drop]
        await self._s.set_group_tags(ctx.account_id, ctx.region, name, new)
        return {}
