"""Handlers for the sqs service. `handlers(app)` returns the objects the dispatcher calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.sqs.handlers import SqsHandlers

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    assert app.queues is not None  # every role that serves the API has the queue service
    return [SqsHandlers(app.queues, app.settings.endpoint)]
