"""Marker/MaxItems pages as Lambda hands them out: an opaque marker, a default page size."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from lambent.errors import InvalidParameterValue

T = TypeVar("T")
DEFAULT_PAGE = 50


def encode_marker(key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": key}).encode()).decode()


def decode_marker(marker: str) -> str:
    try:
        doc = json.loads(base64.urlsafe_b64decode(marker.encode()))
        return str(doc["k"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidParameterValue("Invalid marker") from exc


def page(
    items: Sequence[T],
    key: Callable[[T], str],
    marker: str | None,
    max_items: int | None,
    default: int = DEFAULT_PAGE,
) -> tuple[list[T], str | None]:
    """Items after the marker's key (items sorted by `key`), and the next marker if more."""
    start = 0
    if marker:
        after = decode_marker(marker)
        start = len(items)
        for index, item in enumerate(items):
            if key(item) > after:
                start = index
                break
    size = max_items or default
    chunk = list(items[start : start + size])
    more = start + size < len(items)
    return chunk, (encode_marker(key(chunk[-1])) if more and chunk else None)
