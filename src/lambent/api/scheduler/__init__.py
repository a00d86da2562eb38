"""Handlers for the scheduler service (EventBridge Scheduler)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.scheduler.handlers import SchedulerHandlers

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    assert app.schedules is not None
    return [SchedulerHandlers(app.schedules)]
