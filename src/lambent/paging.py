"""Marker pagination over a strict total order, shared by every list operation that hands
out an opaque marker (Lambda's Marker/NextMarker, IAM's Marker/IsTruncated).

A marker is the sort key of the last item shown, never an index, so a walk sees each item
exactly once and in order even while items are added or removed between calls, and it
ends. That holds only if the key is a strict total order on the items: unique per item,
and the order the items are shown in. Keys are therefore tuples of str and int compared
as tuples, not strings glued with a separator: `"cp-1" + " " + "2"` against `"cp-1-p0"`
is how ListFunctions once paged forever, and versions compared as strings put 10 before 2.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
Key = tuple[str | int, ...]


class BadMarker(ValueError):
    """A marker this server did not hand out (or one of another operation's shape)."""


def encode(key: Key) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode(marker: str) -> Key:
    try:
        value = json.loads(base64.b64decode(marker.encode(), altchars=b"-_", validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadMarker(marker) from exc
    if not isinstance(value, list) or not value:
        raise BadMarker(marker)
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
        raise BadMarker(marker)
    return tuple(value)


def decode_shaped(marker: str, shape: tuple[type, ...]) -> Key:
    """A marker whose key has exactly these element types (for keys used beyond comparing)."""
    key = decode(marker)
    if len(key) != len(shape) or not all(isinstance(v, t) for v, t in zip(key, shape, strict=True)):
        raise BadMarker(marker)
    return key


def page(
    items: Iterable[T], key: Callable[[T], Key], after: Key | None, limit: int
) -> tuple[list[T], Key | None]:
    """The first `limit` items whose key is above `after`, in key order, and the key to
    resume after when more remain (None on the last page)."""
    ordered = sorted(((key(item), item) for item in items), key=lambda pair: pair[0])
    keys = [k for k, _ in ordered]
    if len(set(keys)) != len(keys):
        raise ValueError("paging keys must be unique: the order would not be total")
    try:
        start = 0 if after is None else bisect.bisect_right(keys, after)
    except TypeError as exc:  # a marker of another shape than this listing's keys
        raise BadMarker(repr(after)) from exc
    chunk = ordered[start : start + limit]
    more = start + limit < len(ordered)
    return [item for _, item in chunk], (chunk[-1][0] if more and chunk else None)
