"""EventBridge Scheduler's control plane: schedule groups and schedules, checked as AWS
checks them, stored through `ScheduleBackend`. Firing is `firing.py`'s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from lambent.clock import Clock
from lambent.schedules import errors
from lambent.schedules.backend import Doc, ScheduleBackend
from lambent.schedules.expressions import (
    InvalidScheduleExpression,
    parse,
    scheduler_message,
    zone,
)
from lambent.schedules.timing import first

DEFAULT_GROUP = "default"
_FIELDS = (
    "ActionAfterCompletion",
    "Description",
    "EndDate",
    "FlexibleTimeWindow",
    "KmsKeyArn",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "State",
    "Target",
)


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    return value.timestamp() if isinstance(value, datetime) else float(value)


def check(params: dict[str, Any]) -> None:
    """AWS's checks of a schedule beyond the model's own (which the API layer applied)."""
    expression = str(params["ScheduleExpression"])
    try:
        parse(expression)
        zone(params.get("ScheduleExpressionTimezone"))
    except InvalidScheduleExpression:
        raise errors.invalid(scheduler_message(expression)) from None
    window = params.get("FlexibleTimeWindow") or {}
    if window.get("Mode") == "FLEXIBLE" and not window.get("MaximumWindowInMinutes"):
        raise errors.invalid(
            "MaximumWindowInMinutes is required when FlexibleTimeWindow Mode is FLEXIBLE."
        )
    if window.get("Mode") == "OFF" and window.get("MaximumWindowInMinutes"):
        raise errors.invalid(
            "MaximumWindowInMinutes must not be provided when FlexibleTimeWindow Mode is OFF."
        )
    start, end = _epoch(params.get("StartDate")), _epoch(params.get("EndDate"))
    if start is not None and end is not None and end <= start:
        raise errors.invalid("The EndDate must be after the StartDate.")


class Schedules:
    def __init__(
        self, backend: ScheduleBackend, clock: Clock, wake: Callable[[], None] | None = None
    ) -> None:
        self.backend = backend
        self._clock = clock
        self._wake = wake or (lambda: None)

    def on_change(self, wake: Callable[[], None]) -> None:
        """The firer looks again when a schedule is created or changed."""
        self._wake = wake

    # -- groups ----------------------------------------------------------------------------
    async def _ensure_default(self, account: str, region: str) -> None:
        if await self.backend.get_group(account, DEFAULT_GROUP) is None:
            await self.backend.create_group(
                account, DEFAULT_GROUP, self._group_doc(account, region, DEFAULT_GROUP, None)
            )

    def _group_doc(self, account: str, region: str, name: str, tags: Any) -> Doc:
        now = self._clock.time()
        arn = f"arn:aws:scheduler:{region}:{account}:schedule-group/{name}"
        return {
            "Arn": arn,
            "Name": name,
            "State": "ACTIVE",
            "CreationDate": now,
            "LastModificationDate": now,
            "Tags": list(tags or []),
        }

    async def create_group(self, account: str, region: str, name: str, tags: Any) -> Doc:
        await self._ensure_default(account, region)
        doc = self._group_doc(account, region, name, tags)
        if not await self.backend.create_group(account, name, doc):
            raise errors.ScheduleConflict(f"Schedule group {name} already exists.")
        return doc

    async def group(self, account: str, region: str, name: str) -> Doc:
        await self._ensure_default(account, region)
        doc = await self.backend.get_group(account, name)
        if doc is None:
            raise errors.no_group(name)
        return doc

    async def groups(self, account: str, region: str) -> list[Doc]:
        await self._ensure_default(account, region)
        return await self.backend.list_groups(account)

    async def delete_group(self, account: str, name: str) -> None:
        if name == DEFAULT_GROUP:
            raise errors.invalid("The default schedule group cannot be deleted.")
        if not await self.backend.delete_group(account, name):
            raise errors.no_group(name)

    async def set_group_tags(self, account: str, region: str, name: str, tags: Any) -> None:
        doc = await self.group(account, region, name)
        doc["Tags"] = list(tags)
        await self.backend.put_group(account, name, doc)

    # -- schedules -------------------------------------------------------------------------
    def _doc(self, account: str, region: str, params: dict[str, Any], created: float) -> Doc:
        group = params.get("GroupName") or DEFAULT_GROUP
        name = params["Name"]
        doc: Doc = {k: params[k] for k in _FIELDS if params.get(k) is not None}
        for key in ("StartDate", "EndDate"):
            if key in doc:
                doc[key] = _epoch(doc[key])
        doc.setdefault("State", "ENABLED")
        doc.update(
            Name=name,
            GroupName=group,
            Arn=f"arn:aws:scheduler:{region}:{account}:schedule/{group}/{name}",
            CreationDate=created,
            LastModificationDate=self._clock.time(),
        )
        return doc

    async def create(self, account: str, region: str, params: dict[str, Any]) -> Doc:
        check(params)
        group = params.get("GroupName") or DEFAULT_GROUP
        await self.group(account, region, group)
        doc = self._doc(account, region, params, self._clock.time())
        ok = await self.backend.create_schedule(
            account, group, doc["Name"], doc, first(doc, self._clock.time())
        )
        if not ok:
            raise errors.ScheduleConflict(f"Schedule {doc['Name']} already exists.")
        self._wake()
        return doc

    async def update(self, account: str, region: str, params: dict[str, Any]) -> Doc:
        check(params)
        group = params.get("GroupName") or DEFAULT_GROUP
        old = await self.get(account, group, params["Name"])
        doc = self._doc(account, region, params, float(old["CreationDate"]))
        timing = first(doc, self._clock.time())
        if not await self.backend.update_schedule(account, group, doc["Name"], doc, timing):
            raise errors.no_schedule(doc["Name"])
        self._wake()
        return doc

    async def get(self, account: str, group: str | None, name: str) -> Doc:
        doc = await self.backend.get_schedule(account, group or DEFAULT_GROUP, name)
        if doc is None:
            raise errors.no_schedule(name)
        return doc

    async def list(
        self, account: str, group: str | None, prefix: str | None, state: str | None
    ) -> list[Doc]:
        if group is not None and await self.backend.get_group(account, group) is None:
            raise errors.no_group(group)
        docs = await self.backend.list_schedules(account, group)
        return [
            d
            for d in docs
            if (prefix is None or d["Name"].startswith(prefix))
            and (state is None or d.get("State") == state)
        ]

    async def delete(self, account: str, group: str | None, name: str) -> None:
        if not await self.backend.delete_schedule(account, group or DEFAULT_GROUP, name):
            raise errors.no_schedule(name)
