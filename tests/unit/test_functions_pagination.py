from __future__ import annotations

import pytest

from lambent.errors import InvalidParameterValue
from lambent.functions import pagination


def test_walks_all_pages_in_order() -> None:
    items = [f"k{i:03d}" for i in range(7)]
    seen: list[str] = []
    marker: str | None = None
    pages = 0
    while True:
        chunk, marker = pagination.page(items, lambda s: s, marker, 3)
        seen.extend(chunk)
        pages += 1
        if marker is None:
            break
    assert seen == items
    assert pages == 3


def test_default_page_size() -> None:
    items = [f"{i:04d}" for i in range(120)]
    chunk, marker = pagination.page(items, lambda s: s, None, None)
    assert len(chunk) == pagination.DEFAULT_PAGE
    assert marker is not None


def test_marker_after_deleted_key_continues() -> None:
    marker = pagination.encode_marker("b")
    chunk, _ = pagination.page(["a", "c", "d"], lambda s: s, marker, 10)
    assert chunk == ["c", "d"]


def test_bad_marker() -> None:
    with pytest.raises(InvalidParameterValue):
        pagination.page(["a"], lambda s: s, "!!not-a-marker", 1)
