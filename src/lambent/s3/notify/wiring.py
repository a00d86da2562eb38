"""S3 notifications built from the App's parts: destinations checked at put time and
delivered by the dispatcher through the async path, the queue service and SNS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.errors import NotFoundError
from lambent.s3.notify.delivery import NotifyDispatcher
from lambent.s3.notify.outbox import NotifyOutbox
from lambent.s3.notify.service import BucketNotifications
from lambent.sns.permissions import may_invoke
from lambent.sqs.access import may_send
from lambent.sqs.sending import SendEntry

if TYPE_CHECKING:
    from lambent.app import App

SERVICE = "s3.amazonaws.com"
SUBJECT = "Amazon S3 Notification"


def build_notifications(app: App) -> tuple[BucketNotifications, NotifyDispatcher]:
    outbox = NotifyOutbox(app.store, app.node_id)
    notifications = BucketNotifications(app.store, outbox, app.clock)

    async def validate(kind: str, arn: str, bucket_arn: str) -> bool:
        if kind == "lambda":
            return await may_invoke(app.catalog, arn, SERVICE, bucket_arn)
        if kind == "sqs":
            queue = await app.queues.catalog.by_arn(arn) if app.queues else None
            return queue is not None and may_send(queue, SERVICE, bucket_arn)
        if app.sns is None:
            return False
        try:
            await app.sns.topic(arn)
        except NotFoundError:
            return False
        return True

    async def send(kind: str, arn: str, bucket: str, event: str) -> str | None:
        source = f"arn:aws:s3:::{bucket}"
        if kind == "lambda":
            account = arn.split(":")[4]
            await app.async_invoke.send_to_function(account, arn, None, event.encode())
            return None
        if app.sns is None:
            return "no SNS or SQS on this node"
        if kind == "sqs":
            return await app.sns.delivery.to_queue(arn, SendEntry(event), source, SERVICE)
        await app.sns.publish(arn, event, SUBJECT)
        return None

    dispatcher = NotifyDispatcher(outbox, send, app.clock)
    notifications.validate = validate
    notifications.wake = dispatcher.wake
    app.s3.notifications = notifications
    app.s3.objects.on_write = notifications.on_write
    return notifications, dispatcher
