"""Handlers for the iam service. `handlers(app)` returns the objects the dispatcher calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.iam.roles import RoleHandlers
from lambent.iam.roles import Roles

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    # Open mode is the local-development mode moto-style suites run against; they create
    # roles with placeholder trust policies ("some policy") that IAM itself would reject.
    roles = Roles(app.store, app.clock, lenient_trust=app.settings.auth == "open")
    return [RoleHandlers(roles)]
