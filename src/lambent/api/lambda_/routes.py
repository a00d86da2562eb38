"""Non-AWS routes the Lambda API needs, e.g. the `Code.Location` download URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.http.messages import Handler

if TYPE_CHECKING:
    from lambent.app import App


def extra_routes(app: App) -> dict[str, Handler]:
    return {}
