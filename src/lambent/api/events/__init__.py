"""Handlers for the events service (EventBridge). `handlers(app)` returns what dispatch calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.events.handlers import EventsHandlers

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    assert app.events is not None  # every role that serves the API has EventBridge
    return [EventsHandlers(app.events)]
