"""Handlers for the sts service. `handlers(app)` returns the objects the dispatcher calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.sts.identity import IdentityHandlers
from lambent.api.sts.sessions import SessionHandlers
from lambent.iam.sessions import SessionIssuer

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    # One issuer per server, shared with the invoke path (execution-role credentials).
    issuer: SessionIssuer = app.sessions
    return [IdentityHandlers(), SessionHandlers(issuer)]
