"""Handlers for the kinesis service. `handlers(app)` returns the objects the dispatcher calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.kinesis.handlers import KinesisHandlers

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    assert app.streams is not None  # every role that serves the API has the stream service
    shape = app.models.operation("kinesis", "PutRecords").input_shape
    return [KinesisHandlers(app.streams, shape)]
