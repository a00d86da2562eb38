"""Handlers for the sns service. `handlers(app)` returns the objects the dispatcher calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.sns.handlers import SnsHandlers

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    assert app.sns is not None  # every role that serves the API has it
    return [SnsHandlers(app.sns)]
