"""Which handler objects serve which service, and the few non-AWS routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api import (
    events,
    iam,
    kinesis,
    lambda_,
    logs,
    s3,
    scheduler,
    secretsmanager,
    sns,
    sqs,
    sts,
)
from lambent.api.dispatch import ServiceHandlers
from lambent.http.messages import Handler

if TYPE_CHECKING:
    from lambent.app import App


def build_handlers(app: App) -> list[ServiceHandlers]:
    from lambent.invoke.api import InvokeHandlers

    return [
        InvokeHandlers(app.invoker, app.async_invoke, app.catalog),
        *lambda_.handlers(app),
        *iam.handlers(app),
        *sts.handlers(app),
        *logs.handlers(app),
        *s3.handlers(app),
        *(sqs.handlers(app) if app.queues is not None else []),
        *(events.handlers(app) if app.events is not None else []),
        *(sns.handlers(app) if app.sns is not None else []),
        *(scheduler.handlers(app) if app.schedules is not None else []),
        *(kinesis.handlers(app) if app.streams is not None else []),
        *secretsmanager.handlers(app),
    ]


def extra_routes(app: App) -> dict[str, Handler]:
    from lambent.api.lambda_ import routes as lambda_routes

    return dict(lambda_routes.extra_routes(app))
