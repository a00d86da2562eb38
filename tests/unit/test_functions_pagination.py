"""Lambda's Marker/MaxItems pages: the default size, AWS's caps, the order of qualifiers,
and markers this server never handed out."""

from __future__ import annotations

import pytest

from lambent.errors import InvalidParameterValue
from lambent.functions import pagination


def walk(items: list[str], size: int | None, cap: int | None = None) -> list[list[str]]:
    pages: list[list[str]] = []
    marker: str | None = None
    for _ in range(len(items) + 2):
        chunk, marker = pagination.page(items, lambda s: (s,), marker, size, cap=cap)
        pages.append(chunk)
        if marker is None:
            return pages
    raise AssertionError("the walk did not end")


def test_walks_all_pages_in_order() -> None:
    items = [f"k{i:03d}" for i in range(7)]
    pages = walk(list(reversed(items)), 3)
    assert pages == [items[0:3], items[3:6], items[6:]]


def test_default_page_size_and_cap() -> None:
    items = [f"{i:04d}" for i in range(120)]
    assert [len(p) for p in walk(items, None)] == [50, 50, 20]
    assert [len(p) for p in walk(items, 100, cap=50)] == [50, 50, 20]


def test_marker_after_deleted_key_continues() -> None:
    marker = pagination.encode_marker(("b",))
    chunk, _ = pagination.page(["a", "c", "d"], lambda s: (s,), marker, 10)
    assert chunk == ["c", "d"]


def test_qualifiers_order_latest_then_versions_by_number_then_aliases() -> None:
    qualifiers = ["live", "10", "$LATEST", "2", "a-1", "1", "A_0"]
    ordered = sorted(qualifiers, key=pagination.qualifier_key)
    assert ordered == ["$LATEST", "1", "2", "10", "A_0", "a-1", "live"]


@pytest.mark.parametrize(
    "marker",
    [
        "!!not-a-marker",
        pagination.encode_marker((1,)),  # a key of another shape than the listing's
        "bnVsbA==",  # JSON null
    ],
)
def test_bad_marker(marker: str) -> None:
    with pytest.raises(InvalidParameterValue):
        pagination.page(["a"], lambda s: (s,), marker, 1)
