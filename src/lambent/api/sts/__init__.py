"""Handlers for the sts service. `handlers(app)` returns the objects the dispatcher calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.sts.identity import IdentityHandlers

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    return [IdentityHandlers()]
