"""EventBridge's domain API: what the handlers call. No HTTP here.

Checks run before anything is written, so a refused request changes nothing. PutEvents
writes every accepted entry to the outbox in one transaction, then wakes the dispatcher.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from lambent.clock import Clock
from lambent.events import envelope, errors, names
from lambent.events.catalog import MAX_TARGETS, EventCatalog, Rule, check_pattern
from lambent.events.dispatcher import Dispatcher
from lambent.events.outbox import Outbox
from lambent.events.targets import DeliveryFailed
from lambent.events.transform import check_target_input
from lambent.function_urls.access import Principal, grants

PUT_EVENTS = "events:putevents"


def may_put(bus: Mapping[str, Any], account: str, principal_arn: str) -> bool:
    """May `account` put events on another account's bus? Its resource policy decides."""
    context = {"aws:principalaccount": account, "aws:principalarn": principal_arn}
    return grants(bus.get("policy"), Principal(account, principal_arn), PUT_EVENTS, context)


def check_schedule(expression: str) -> None:
    from lambent.schedules.expressions import InvalidScheduleExpression, parse

    try:
        parse(expression, allow_at=False)
    except InvalidScheduleExpression as exc:
        raise errors.EventsValidation("Parameter ScheduleExpression is not valid.") from exc


class EventBridge:
    def __init__(
        self, catalog: EventCatalog, outbox: Outbox, dispatcher: Dispatcher, clock: Clock
    ) -> None:
        self.catalog = catalog
        self.outbox = outbox
        self.dispatcher = dispatcher
        self._clock = clock

    async def stats(self) -> dict[str, int]:
        """For /_lambent/stats: deliveries and failures since start, events in the outbox."""
        return {
            **self.dispatcher.stats.as_dict(),
            "sns_not_delivered": self.dispatcher.sender.sns_not_delivered,
            "outbox": await self.outbox.count(),
        }

    # -- events ------------------------------------------------------------------------
    async def put_events(
        self, account: str, principal_arn: str, region: str, entries: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, str]]:
        """Per entry: {"EventId"} or {"ErrorCode", "ErrorMessage"}, in order."""
        if sum(envelope.entry_size(e) for e in entries) > envelope.MAX_TOTAL:
            raise errors.EventsValidation(
                "Total size of the entries in the request is over the limit."
            )
        now = self._clock.time()
        results: list[dict[str, str]] = []
        items: list[dict[str, Any]] = []
        for entry in entries:
            failure = envelope.check(entry)
            ref = names.parse_bus(entry.get("EventBusName"), account)
            if failure is None:
                failure = await self._may_put(ref, account, principal_arn, region)
            if failure is not None:
                results.append({"ErrorCode": failure.code, "ErrorMessage": failure.message})
                continue
            event = envelope.envelope(entry, account, region, now)
            items.append({"event": event, "account": ref.account, "bus": ref.name})
            results.append({"EventId": event["id"]})
        if items:
            await self.outbox.add(items, now)
            self.dispatcher.notify()
        return results

    async def _may_put(
        self, ref: names.BusRef, account: str, principal_arn: str, region: str
    ) -> envelope.EntryError | None:
        try:
            bus = await self.catalog.bus(ref.account, ref.name, region)
        except errors.EventsNotFound as exc:
            return envelope.EntryError(exc.code, exc.message)
        if ref.account != account and not may_put(bus, account, principal_arn):
            return envelope.EntryError(
                "AccessDeniedException",
                f"User: {principal_arn} is not authorized to perform: events:PutEvents on "
                f"resource: {bus['arn']} because no resource-based policy allows the "
                "events:PutEvents action",
            )
        return None

    async def forward(self, item: dict[str, Any]) -> None:
        """An event-bus target: the event goes into the target bus's outbox (durable)."""
        try:
            bus = await self.catalog.bus(item["account"], item["bus"], item["region"])
        except errors.EventsNotFound as exc:
            raise DeliveryFailed(exc.code, exc.message, retry=False) from exc
        sender = item.pop("from_account")
        principal = f"arn:aws:iam::{sender}:root"
        if item["account"] != sender and not may_put(bus, sender, principal):
            raise DeliveryFailed(
                "AccessDeniedException",
                f"The policy of {bus['arn']} does not allow account {sender} to put events",
                retry=False,
            )
        await self.outbox.add([item], self._clock.time())
        self.dispatcher.notify()

    async def add_to_bus(self, items: list[dict[str, Any]]) -> None:
        """Events made by Lambent itself (async invoke destinations) onto a bus, durable."""
        for item in items:
            await self.catalog.bus(item["account"], item["bus"], item["region"])
        await self.outbox.add(items, self._clock.time())
        self.dispatcher.notify()

    # -- rules -------------------------------------------------------------------------
    async def put_rule(self, account: str, region: str, params: Mapping[str, Any]) -> Rule:
        ref = names.parse_bus(params.get("EventBusName"), account)
        bus = await self.catalog.bus(ref.account, ref.name, region)
        pattern, schedule = params.get("EventPattern"), params.get("ScheduleExpression")
        if not pattern and not schedule:
            raise errors.EventsValidation(
                "Parameter(s) EventPattern or ScheduleExpression must be specified."
            )
        if pattern:
            check_pattern(pattern)
        if schedule:
            if ref.name != names.DEFAULT_BUS:
                raise errors.EventsValidation(
                    "ScheduleExpression is supported only on the default event bus."
                )
            check_schedule(schedule)
        existing = await self.catalog.find_rule(ref.account, ref.name, params["Name"])
        rule = Rule(
            ref.account,
            region,
            bus["name"],
            params["Name"],
            names.rule_arn(region, ref.account, bus["name"], params["Name"]),
            pattern,
            schedule,
            params.get("State") or "ENABLED",
            params.get("Description"),
            params.get("RoleArn"),
            existing.targets if existing else (),
        )
        await self.catalog.put_rule(rule)
        return rule

    async def rule(self, account: str, params: Mapping[str, Any], key: str = "Name") -> Rule:
        ref = names.parse_bus(params.get("EventBusName"), account)
        return await self.catalog.rule(ref.account, ref.name, params[key])

    async def set_state(self, account: str, params: Mapping[str, Any], state: str) -> None:
        async with self.catalog.store.transaction():
            rule = await self.rule(account, params)
            await self.catalog.put_rule(_replace(rule, state=state))

    async def delete_rule(self, account: str, params: Mapping[str, Any]) -> None:
        ref = names.parse_bus(params.get("EventBusName"), account)
        async with self.catalog.store.transaction():
            rule = await self.catalog.find_rule(ref.account, ref.name, params["Name"])
            if rule is None:
                return  # AWS: deleting a rule that does not exist succeeds
            if rule.targets:
                raise errors.EventsValidation("Rule can't be deleted since it has targets.")
            await self.catalog.delete_rule(ref.account, ref.name, params["Name"])

    async def put_targets(
        self, account: str, region: str, params: Mapping[str, Any]
    ) -> list[dict[str, str]]:
        """FailedEntries; the other targets are written (as AWS)."""
        async with self.catalog.store.transaction():
            rule = await self.rule(account, params, "Rule")
            kept = {t["Id"]: t for t in rule.targets}
            failed: list[dict[str, str]] = []
            for target in params["Targets"]:
                check_target_input(target)
                problem = await self._target_problem(rule, target, region)
                if problem is not None:
                    failed.append({"TargetId": target["Id"], **problem})
                    continue
                kept[target["Id"]] = dict(target)
            if len(kept) > MAX_TARGETS:
                raise errors.EventsLimitExceeded(
                    "The requested resource exceeds the maximum number allowed."
                )
            await self.catalog.put_rule(_replace(rule, targets=tuple(kept.values())))
        return failed

    async def _target_problem(
        self, rule: Rule, target: Mapping[str, Any], region: str
    ) -> dict[str, str] | None:
        parts = names.arn_parts(str(target["Arn"]))
        if parts is None:
            raise errors.EventsValidation(f"Parameter {target['Arn']} is not valid.")
        service, where, owner, resource = parts
        if not owner or owner == rule.account:
            return None
        if service == "events" and resource.startswith("event-bus/"):
            try:
                bus = await self.catalog.bus(owner, resource[len("event-bus/") :], where)
            except errors.EventsNotFound:
                bus = {}
            if bus and may_put(bus, rule.account, f"arn:aws:iam::{rule.account}:root"):
                return None
        return {
            "ErrorCode": "AccessDeniedException",
            "ErrorMessage": f"Access denied for target {target['Arn']} in account {owner}.",
        }

    async def remove_targets(self, account: str, params: Mapping[str, Any]) -> None:
        async with self.catalog.store.transaction():
            rule = await self.rule(account, params, "Rule")
            ids = set(params["Ids"])
            targets = tuple(t for t in rule.targets if t["Id"] not in ids)
            await self.catalog.put_rule(_replace(rule, targets=targets))

    # -- buses -------------------------------------------------------------------------
    async def put_permission(self, account: str, region: str, params: Mapping[str, Any]) -> None:
        name = names.parse_bus(params.get("EventBusName"), account).name
        bus = await self.catalog.bus(account, name, region)
        if params.get("Policy"):
            try:
                policy = json.loads(params["Policy"])
            except ValueError as exc:
                raise errors.EventsValidation("Policy is not a valid JSON text.") from exc
            await self.catalog.set_policy(account, region, name, policy)
            return
        for key in ("Action", "Principal", "StatementId"):
            if not params.get(key):
                raise errors.EventsValidation(f"Parameter {key} must be specified.")
        principal = params["Principal"]
        stmt: dict[str, Any] = {
            "Sid": params["StatementId"],
            "Effect": "Allow",
            "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"},
            "Action": params["Action"],
            "Resource": bus["arn"],
        }
        if params.get("Condition"):
            cond = params["Condition"]
            stmt["Condition"] = {cond["Type"]: {cond["Key"]: cond["Value"]}}
        old = bus.get("policy") or {"Version": "2012-10-17", "Statement": []}
        statements = [s for s in old["Statement"] if s.get("Sid") != stmt["Sid"]] + [stmt]
        await self.catalog.set_policy(account, region, name, {**old, "Statement": statements})

    async def remove_permission(self, account: str, region: str, params: Mapping[str, Any]) -> None:
        name = names.parse_bus(params.get("EventBusName"), account).name
        bus = await self.catalog.bus(account, name, region)
        if params.get("RemoveAllPermissions"):
            await self.catalog.set_policy(account, region, name, None)
            return
        old = bus.get("policy") or {"Statement": []}
        sid = params.get("StatementId")
        statements = [s for s in old["Statement"] if s.get("Sid") != sid]
        if len(statements) == len(old["Statement"]):
            raise errors.EventsNotFound("Statement with the provided id does not exist.")
        await self.catalog.set_policy(
            account, region, name, {**old, "Statement": statements} if statements else None
        )


def _replace(rule: Rule, **changes: Any) -> Rule:
    from dataclasses import replace

    return replace(rule, **changes)
