"""Handlers for the s3 service. `handlers(app)` returns the objects the dispatcher calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.s3.buckets import BucketHandlers
from lambent.api.s3.listing import ListingHandlers
from lambent.api.s3.multipart import MultipartHandlers
from lambent.api.s3.objects import ObjectHandlers

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    return [
        BucketHandlers(app.s3),
        ObjectHandlers(app.s3),
        ListingHandlers(app.s3),
        MultipartHandlers(app.s3),
    ]
