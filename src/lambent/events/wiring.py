"""EventBridge built from the App's parts (the composition root calls `build_events`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambent.events.catalog import EventCatalog
from lambent.events.destinations import BusDestination, SqsDestination
from lambent.events.dispatcher import Dispatcher
from lambent.events.outbox import Outbox
from lambent.events.service import EventBridge
from lambent.events.targets import Publish, TargetSender

if TYPE_CHECKING:
    from lambent.app import App
    from lambent.sns.service import Notifications


def _publisher(sns: Notifications) -> Publish:
    async def publish(arn: str, message: str) -> str:
        return await sns.publish(arn, message)

    return publish


def build_events(app: App) -> EventBridge:
    catalog = EventCatalog(app.store, app.clock)
    outbox = Outbox(app.store, app.node_id)
    forward_to: list[EventBridge] = []

    async def forward(item: dict[str, Any]) -> None:
        await forward_to[0].forward(item)

    async def accept(account: str, arn: str, qualifier: str | None, payload: bytes) -> str:
        return await app.async_invoke.send_to_function(account, arn, qualifier, payload)

    publish: Publish | None = None
    if app.sns is not None:
        publish = _publisher(app.sns)
    sender = TargetSender(app.catalog, accept, app.queues, forward, publish)
    dispatcher = Dispatcher(outbox, catalog, sender, app.clock)
    events = EventBridge(catalog, outbox, dispatcher, app.clock)
    forward_to.append(events)
    # Async invoke's destinations and dead letters on queues and buses (issue 11 §6).
    if app.queues is not None:
        app.async_invoke.targets.register(SqsDestination(app.queues))
    app.async_invoke.targets.register(BusDestination(events.add_to_bus, app.clock))
    # SNS topics as destinations are the SNS package's own (sns/destination.py: the dead
    # letter's RequestID/ErrorCode/ErrorMessage become message attributes).
    return events
