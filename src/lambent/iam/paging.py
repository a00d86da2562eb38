"""IAM's Marker/MaxItems/IsTruncated pages over lambent.paging (the shared marker rules);
IAM's own parts are its default page size and its error."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from lambent import paging
from lambent.errors import IamInvalidInput
from lambent.paging import Key

T = TypeVar("T")
DEFAULT_MAX_ITEMS = 100


def page(
    items: Iterable[T], key: Callable[[T], Key], params: dict[str, Any]
) -> tuple[list[T], dict[str, Any]]:
    """One page of `items` in `key` order, and the IsTruncated/Marker output members."""
    marker = params.get("Marker")
    limit = int(params.get("MaxItems") or DEFAULT_MAX_ITEMS)
    try:
        after = paging.decode(marker) if marker else None
        chunk, last = paging.page(items, key, after, limit)
    except paging.BadMarker as exc:
        raise IamInvalidInput("Invalid Marker.") from exc
    extra: dict[str, Any] = {"IsTruncated": last is not None}
    if last is not None:
        extra["Marker"] = paging.encode(last)
    return chunk, extra
