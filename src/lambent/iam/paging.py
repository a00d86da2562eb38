"""IAM's Marker/MaxItems pagination over lists already sorted by a key.

The marker is opaque to clients; it encodes the last key returned, so a page stays
correct when entities are added or removed between calls.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from lambent.errors import IamInvalidInput

T = TypeVar("T")
DEFAULT_MAX_ITEMS = 100


def encode_marker(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_marker(marker: str) -> str:
    try:
        return base64.b64decode(marker.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise IamInvalidInput("Invalid Marker.") from exc


def page(
    items: Sequence[T], key: Callable[[T], str], params: dict[str, Any]
) -> tuple[list[T], dict[str, Any]]:
    """One page of `items` (sorted by `key`) and the IsTruncated/Marker output members."""
    marker = params.get("Marker")
    limit = int(params.get("MaxItems") or DEFAULT_MAX_ITEMS)
    start = 0
    if marker:
        after = decode_marker(marker)
        start = next((i for i, item in enumerate(items) if key(item) > after), len(items))
    chunk = list(items[start : start + limit])
    truncated = start + limit < len(items)
    extra: dict[str, Any] = {"IsTruncated": truncated}
    if truncated and chunk:
        extra["Marker"] = encode_marker(key(chunk[-1]))
    return chunk, extra
