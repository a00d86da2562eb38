"""Listing pages: prefix, delimiter roll-ups, markers and max-keys (pure, no store)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

from lambent.s3.listing import Page, paginate, paginate_versions

T = TypeVar("T")

KEYS = ["a", "a/1", "a/2", "a/b/3", "ab", "b/1", "b/2", "c"]


async def stream(items: Iterable[T]) -> AsyncIterator[T]:
    """The store's side of a listing: entries in key order, one at a time."""
    for item in items:
        yield item


def page(**kw: object) -> Page[str]:
    args: dict[str, object] = {"prefix": "", "delimiter": None, "marker": None, "max_keys": 1000}
    args.update(kw)
    return asyncio.run(paginate(stream((k, k) for k in KEYS), **args))  # type: ignore[arg-type]


def walk(max_keys: int, **kw: object) -> tuple[list[str], list[str], int]:
    """Every page until not truncated, the way a client follows continuation tokens."""
    items: list[str] = []
    prefixes: list[str] = []
    marker = None
    pages = 0
    while True:
        p = page(max_keys=max_keys, marker=marker, **kw)
        pages += 1
        items += p.items
        prefixes += p.common_prefixes
        if not p.truncated:
            return items, prefixes, pages
        marker = p.last


def test_everything_in_order() -> None:
    p = page()
    assert p.items == KEYS and not p.truncated and p.common_prefixes == []


def test_prefix_selects_a_contiguous_range() -> None:
    assert page(prefix="a/").items == ["a/1", "a/2", "a/b/3"]
    assert page(prefix="a").items == ["a", "a/1", "a/2", "a/b/3", "ab"]
    assert page(prefix="zzz").items == []


def test_delimiter_rolls_keys_up_into_common_prefixes() -> None:
    p = page(delimiter="/")
    assert p.items == ["a", "ab", "c"]
    assert p.common_prefixes == ["a/", "b/"]
    p = page(prefix="a/", delimiter="/")
    assert p.items == ["a/1", "a/2"] and p.common_prefixes == ["a/b/"]


def test_max_keys_counts_keys_and_prefixes_and_pages_cover_everything() -> None:
    p = page(delimiter="/", max_keys=2)
    assert p.items == ["a"] and p.common_prefixes == ["a/"] and p.truncated
    assert p.last == "a/"
    for size in (1, 2, 3, 7):
        items, prefixes, pages = walk(size, delimiter="/")
        assert items == ["a", "ab", "c"] and prefixes == ["a/", "b/"]
        assert pages == -(-5 // size)
        items, _, _ = walk(size)
        assert items == KEYS


def test_exactly_full_page_is_not_truncated() -> None:
    p = page(max_keys=len(KEYS))
    assert not p.truncated


def test_marker_is_exclusive_and_zero_keys_is_empty() -> None:
    assert page(marker="b/1").items == ["b/2", "c"]
    assert page(marker="a/", delimiter="/").items == ["ab", "c"]
    empty = page(max_keys=0)
    assert empty.items == [] and not empty.truncated


def test_versions_count_one_by_one_and_resume_inside_a_key() -> None:
    entries = [("a", ["a3", "a2", "a1"]), ("b", ["b1"]), ("c/x", ["c1"])]

    def run(**kw: object) -> tuple[Page[str], str | None]:
        args: dict[str, object] = {
            "prefix": "",
            "delimiter": None,
            "key_marker": None,
            "version_marker": None,
            "max_keys": 1000,
        }
        args.update(kw)
        return asyncio.run(
            paginate_versions(stream(entries), lambda v: v, **args)  # type: ignore[arg-type]
        )

    first, next_version = run(max_keys=2)
    assert first.items == ["a3", "a2"] and first.truncated
    assert (first.last, next_version) == ("a", "a2")
    second, _ = run(max_keys=2, key_marker="a", version_marker="a2")
    assert second.items == ["a1", "b1"] and second.truncated
    rest, _ = run(key_marker="b", version_marker="b1")
    assert rest.items == ["c1"] and not rest.truncated
    after_key, _ = run(key_marker="a")
    assert after_key.items == ["b1", "c1"]
    rolled, _ = run(delimiter="/")
    assert rolled.items == ["a3", "a2", "a1", "b1"] and rolled.common_prefixes == ["c/"]
