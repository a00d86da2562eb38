"""One page of a bucket listing: prefix, delimiter roll-ups, a marker, max-keys.

Pure over an ordered stream of (key, item), so the same rules serve ListObjects,
ListObjectsV2 and ListObjectVersions, and unit tests need no store. The stream is
asynchronous: the store yields keys a page at a time, and a listing stops reading as soon
as its page is full. Keys compare as S3
orders them (UTF-8 bytes, the same order as Python's code points and SQLite's BINARY).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    common_prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    # The last key or common prefix shown: where the next page starts (exclusive).
    last: str | None = None


def rollup(key: str, prefix: str, delimiter: str | None) -> str | None:
    """The common prefix a key folds into, if the delimiter occurs after the prefix."""
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return key[: at + len(delimiter)] if at >= 0 else None


async def paginate(
    entries: AsyncIterable[tuple[str, T]],
    *,
    prefix: str,
    delimiter: str | None,
    marker: str | None,
    max_keys: int,
) -> Page[T]:
    """Entries must come in key order; one item per key (ListObjects, ListObjectsV2)."""
    page: Page[T] = Page()
    if max_keys <= 0:
        return page
    count = 0
    async for key, item in entries:
        if not key.startswith(prefix):
            if key > prefix:
                break  # past every key with the prefix
            continue
        if marker is not None and key <= marker:
            continue
        folded = rollup(key, prefix, delimiter)
        if folded is not None and (folded == page.last or (marker and folded <= marker)):
            continue  # already shown (on this page or the one before)
        if count == max_keys:
            page.truncated = True
            break
        count += 1
        if folded is not None:
            page.common_prefixes.append(folded)
            page.last = folded
        else:
            page.items.append(item)
            page.last = key
    return page


async def paginate_versions(
    entries: AsyncIterable[tuple[str, list[T]]],
    version_id: Callable[[T], str],
    *,
    prefix: str,
    delimiter: str | None,
    key_marker: str | None,
    version_marker: str | None,
    max_keys: int,
) -> tuple[Page[T], str | None]:
    """ListObjectVersions: every version counts; returns the page and the next version marker."""
    page: Page[T] = Page()
    next_version: str | None = None
    if max_keys <= 0:
        return page, None
    count = 0
    async for key, versions in entries:
        if not key.startswith(prefix):
            if key > prefix:
                break
            continue
        if key_marker is not None and key < key_marker:
            continue
        folded = rollup(key, prefix, delimiter)
        if folded is not None:
            if folded == page.last or (key_marker and folded <= key_marker):
                continue
            if count == max_keys:
                page.truncated = True
                break
            count += 1
            page.common_prefixes.append(folded)
            page.last, next_version = folded, None
            continue
        todo = _after_marker(key, versions, version_id, key_marker, version_marker)
        for item in todo:
            if count == max_keys:
                page.truncated = True
                return page, next_version
            count += 1
            page.items.append(item)
            page.last, next_version = key, version_id(item)
    return page, next_version


def _after_marker(
    key: str,
    versions: list[T],
    version_id: Callable[[T], str],
    key_marker: str | None,
    version_marker: str | None,
) -> list[T]:
    if key_marker is None or key != key_marker:
        return versions
    if not version_marker:
        return []  # KeyMarker alone: start after every version of that key
    ids = [version_id(v) for v in versions]
    return versions[ids.index(version_marker) + 1 :] if version_marker in ids else versions
