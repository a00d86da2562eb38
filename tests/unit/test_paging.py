"""The shared marker rules (lambent.paging) over random items, page sizes and changes
between pages: each item once, in key order, and the walk ends."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lambent import paging

NAMES = st.text(alphabet="ab-_01/", min_size=1, max_size=6)


@settings(max_examples=100, deadline=None)
@given(names=st.sets(NAMES, max_size=30), limit=st.integers(1, 7))
def test_a_walk_sees_each_item_once_in_order(names: set[str], limit: int) -> None:
    seen: list[str] = []
    after: paging.Key | None = None
    for _ in range(len(names) + 1):
        chunk, after = paging.page(list(names), lambda s: (s,), after, limit)
        assert len(chunk) <= limit
        seen.extend(chunk)
        if after is None:
            break
        after = paging.decode(paging.encode(after))
    assert after is None
    assert seen == sorted(names)


@settings(max_examples=100, deadline=None)
@given(
    names=st.sets(NAMES, min_size=2, max_size=20),
    added=st.sets(NAMES, max_size=5),
    limit=st.integers(1, 5),
)
def test_items_added_between_pages_never_repeat_what_was_shown(
    names: set[str], added: set[str], limit: int
) -> None:
    first, after = paging.page(list(names), lambda s: (s,), None, limit)
    assume(after is not None)
    rest, _ = paging.page(list(names | added), lambda s: (s,), after, 10_000)
    assert not set(first) & set(rest)
    assert set(first) | set(rest) >= names


def test_keys_must_be_unique() -> None:
    with pytest.raises(ValueError):
        paging.page(["a", "a"], lambda s: (s,), None, 5)


@pytest.mark.parametrize("marker", ["", "%%", "W10=", "WzEsIHRydWVd", "e30="])
def test_markers_not_handed_out_are_refused(marker: str) -> None:
    with pytest.raises(paging.BadMarker):
        paging.decode(marker)
