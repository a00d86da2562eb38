"""Which handler objects serve which service, and the few non-AWS routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.http.messages import Handler

if TYPE_CHECKING:
    from lambent.app import App


def build_handlers(app: App) -> list[ServiceHandlers]:
    return []


def extra_routes(app: App) -> dict[str, Handler]:
    return {}
