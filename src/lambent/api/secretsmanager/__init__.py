"""Handlers for the secretsmanager service. `handlers(app)` returns the objects the
dispatcher calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.secretsmanager.handlers import SecretsHandlers

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    return [SecretsHandlers(app.secrets)]
