"""Handlers for the logs service. `handlers(app)` returns the objects the dispatcher calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.logs.handlers import LogsHandlers
from lambent.logs.catalog import LogCatalog
from lambent.logs.events import LogEvents

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    return [LogsHandlers(LogCatalog(app.logs), LogEvents(app.logs))]
