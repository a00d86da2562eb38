"""Handlers for the lambda service. `handlers(app)` returns the objects the dispatcher calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.lambda_.aliases import AliasHandlers
from lambent.api.lambda_.code_signing import CodeSigningHandlers
from lambent.api.lambda_.concurrency import ConcurrencyHandlers, InvokeConfigHandlers
from lambent.api.lambda_.event_sources import EventSourceMappingHandlers
from lambent.api.lambda_.functions import FunctionHandlers
from lambent.api.lambda_.layers import LayerHandlers
from lambent.api.lambda_.permissions import PolicyHandlers
from lambent.api.lambda_.recursion import RecursionConfigHandlers
from lambent.api.lambda_.urls import FunctionUrlHandlers
from lambent.event_sources.service import EventSourceMappings
from lambent.functions.service import FunctionService

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    cp = app.control_plane
    layer_repo = cp.layers.repo
    return [
        FunctionHandlers(FunctionService(cp), layer_repo),
        AliasHandlers(cp.catalog),
        LayerHandlers(cp.layers),
        PolicyHandlers(cp.catalog),
        ConcurrencyHandlers(cp.catalog, layer_repo),
        InvokeConfigHandlers(cp.catalog),
        FunctionUrlHandlers(app.urls),
        EventSourceMappingHandlers(
            EventSourceMappings(
                cp.catalog,
                app.clock,
                app.pollers.wake,
                None if app.queues is None else app.queues.catalog.by_arn,
                (app.brokers.exists, app.secrets.exists),
            )
        ),
        RecursionConfigHandlers(cp.catalog),
        *([CodeSigningHandlers(cp.code_check.configs)] if cp.code_check else []),
    ]
