"""Lambda's Marker/MaxItems pages over lambent.paging: an opaque marker, a default page
size, AWS's per-response caps, and the order of qualifiers that every per-function list
shares ($LATEST, then versions by number, then aliases by name)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from lambent import paging
from lambent.errors import InvalidParameterValue
from lambent.paging import Key

T = TypeVar("T")
DEFAULT_PAGE = 50
LATEST = "$LATEST"
_INVALID = "Invalid marker"


def encode_marker(key: Key) -> str:
    return paging.encode(key)


def decode_marker(marker: str, shape: tuple[type, ...] | None = None) -> Key:
    try:
        return paging.decode(marker) if shape is None else paging.decode_shaped(marker, shape)
    except paging.BadMarker as exc:
        raise InvalidParameterValue(_INVALID) from exc


def page_size(max_items: int | None, cap: int | None = None, default: int = DEFAULT_PAGE) -> int:
    """MaxItems, or the default; capped where AWS caps a response whatever MaxItems says."""
    size = max_items or default
    return min(size, cap) if cap is not None else size


def qualifier_key(qualifier: str) -> Key:
    """$LATEST first, then published versions by number (2 before 10), then aliases by name
    (an alias name always holds a letter, so it is never a version number)."""
    if qualifier == LATEST:
        return (0, 0, "")
    if qualifier.isdigit():
        return (1, int(qualifier), "")
    return (2, 0, qualifier)


def page(
    items: Iterable[T],
    key: Callable[[T], Key],
    marker: str | None,
    max_items: int | None,
    default: int = DEFAULT_PAGE,
    *,
    cap: int | None = None,
) -> tuple[list[T], str | None]:
    """One page of `items` in `key` order and the NextMarker, if more remain."""
    after = decode_marker(marker) if marker else None
    try:
        chunk, last = paging.page(items, key, after, page_size(max_items, cap, default))
    except paging.BadMarker as exc:
        raise InvalidParameterValue(_INVALID) from exc
    return chunk, (paging.encode(last) if last is not None else None)
