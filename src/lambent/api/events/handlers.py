"""EventBridge operations on the wire: thin, over the domain (events/service.py)."""

from __future__ import annotations

import json
from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.events import errors, names
from lambent.events.catalog import Rule, check_pattern
from lambent.events.service import EventBridge

MAX_LIST = 100


def _rule_out(rule: Rule) -> dict[str, Any]:
    out = {
        "Name": rule.name,
        "Arn": rule.arn,
        "EventPattern": rule.pattern,
        "ScheduleExpression": rule.schedule,
        "State": rule.state,
        "Description": rule.description,
        "RoleArn": rule.role_arn,
        "EventBusName": rule.bus,
    }
    return {k: v for k, v in out.items() if v is not None}


def _bus_out(bus: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": bus["name"], "Arn": bus["arn"]}
    if bus.get("description"):
        out["Description"] = bus["description"]
    if bus.get("policy"):
        out["Policy"] = json.dumps(bus["policy"])
    if bus.get("created"):
        out["CreationTime"] = bus["created"]
        out["LastModifiedTime"] = bus.get("modified", bus["created"])
    return out


def _page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    start = int(params.get("NextToken") or 0)
    limit = params.get("Limit") or MAX_LIST
    shown = items[start : start + limit]
    more = start + limit < len(items)
    return shown, (str(start + limit) if more else None)


class EventsHandlers(ServiceHandlers):
    service = "events"

    def __init__(self, events: EventBridge) -> None:
        self._events = events
        self._catalog = events.catalog

    # -- buses -------------------------------------------------------------------------
    async def create_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = await self._catalog.create_bus(
            ctx.account_id, ctx.region, params["Name"], params.get("Description")
        )
        out = {"EventBusArn": bus["arn"]}
        if bus.get("description"):
            out["Description"] = bus["description"]
        return out

    async def delete_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._catalog.delete_bus(ctx.account_id, params["Name"])

    async def describe_event_bus(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        ref = names.parse_bus(params.get("Name"), ctx.account_id)
        return _bus_out(await self._catalog.bus(ref.account, ref.name, ctx.region))

    async def list_event_buses(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        buses = await self._catalog.list_buses(ctx.account_id, ctx.region)
        prefix = params.get("NamePrefix") or ""
        shown, token = _page([b for b in buses if b["name"].startswith(prefix)], params)
        out: dict[str, Any] = {"EventBuses": [_bus_out(b) for b in shown]}
        if token:
            out["NextToken"] = token
        return out

    async def put_permission(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._events.put_permission(ctx.account_id, ctx.region, params)

    async def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._events.remove_permission(ctx.account_id, ctx.region, params)

    # -- events ------------------------------------------------------------------------
    async def put_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        results = await self._events.put_events(
            ctx.account_id, ctx.caller.principal_arn, ctx.region, params["Entries"]
        )
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}

    async def test_event_pattern(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        pattern = check_pattern(params["EventPattern"])
        try:
            event = json.loads(params["Event"])
        except ValueError as exc:
            raise errors.EventsValidation("Parameter Event is not valid.") from exc
        if not isinstance(event, dict):
            raise errors.EventsValidation("Parameter Event is not valid.")
        for key in ("id", "account", "source", "time", "region", "detail-type"):
            if key not in event:
                raise errors.EventsValidation(
                    f"Parameter Event is not valid. Reason: Provided Event is missing "
                    f"required field {key}."
                )
        return {"Result": pattern.matches(event)}

    # -- rules -------------------------------------------------------------------------
    async def put_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rule = await self._events.put_rule(ctx.account_id, ctx.region, params)
        return {"RuleArn": rule.arn}

    async def describe_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rule = await self._events.rule(ctx.account_id, params)
        return {**_rule_out(rule), "CreatedBy": rule.account}

    async def list_rules(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = names.parse_bus(params.get("EventBusName"), ctx.account_id)
        await self._catalog.bus(ref.account, ref.name, ctx.region)
        prefix = params.get("NamePrefix") or ""
        rules = [r for r in await self._catalog.rules(ref.account, ref.name)]
        shown, token = _page([r for r in rules if r.name.startswith(prefix)], params)
        out: dict[str, Any] = {"Rules": [_rule_out(r) for r in shown]}
        if token:
            out["NextToken"] = token
        return out

    async def delete_rule(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._events.delete_rule(ctx.account_id, params)

    async def enable_rule(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._events.set_state(ctx.account_id, params, "ENABLED")

    async def disable_rule(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._events.set_state(ctx.account_id, params, "DISABLED")

    # -- targets -----------------------------------------------------------------------
    async def put_targets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        failed = await self._events.put_targets(ctx.account_id, ctx.region, params)
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    async def remove_targets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await self._events.remove_targets(ctx.account_id, params)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    async def list_targets_by_rule(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        rule = await self._events.rule(ctx.account_id, params, "Rule")
        shown, token = _page(list(rule.targets), params)
        out: dict[str, Any] = {"Targets": shown}
        if token:
            out["NextToken"] = token
        return out
