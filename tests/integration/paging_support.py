"""Walking every page of a list operation through boto3, and the random names, page sizes
and settings that the pagination property tests share (issue 8 §1.1)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Each example makes real resources on a real server: few examples, no per-example deadline.
# LAMBENT_PROPERTY_SCALE=10 runs ten times as many, to hunt for a bug.
SCALE = int(os.environ.get("LAMBENT_PROPERTY_SCALE", "1"))
PROPERTY = settings(
    max_examples=15 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Where an example costs a few milliseconds (no function, no environment): more of them.
CHEAP = settings(PROPERTY, max_examples=25 * SCALE)
# Fragments that make names which are prefixes of one another and mix separators with
# digits: the shapes that broke ListFunctions ("cp-1" before "cp-1-p0").
FRAGMENTS = ["cp", "-", "_", "1", "-1", "_1", "p0", "0", "2", "10", "-p", "A", "a"]
NAME_SUFFIX = st.lists(st.sampled_from(FRAGMENTS), min_size=0, max_size=4).map("".join)
_serial = itertools.count()


def fresh(stem: str = "e") -> str:
    """A prefix no earlier example used (hypothesis replays examples on the same server)."""
    return f"{stem}{next(_serial)}x"


def walk(
    paginator: Any, result: Callable[[dict[str, Any]], list[Any]], size: int, **params: Any
) -> list[list[Any]]:
    """Every page's items, through boto3's paginator (PageSize is the operation's limit);
    fails if a page is larger than asked or the walk takes more pages than items allow."""
    pages: list[list[Any]] = []
    for response in paginator.paginate(PaginationConfig={"PageSize": size}, **params):
        items = result(response)
        assert len(items) <= size, f"a page of {len(items)} items for a page size of {size}"
        pages.append(items)
        assert len(pages) <= 10_000, "the walk did not end"
    return pages


def flat(pages: list[list[Any]]) -> list[Any]:
    return [item for page in pages for item in page]


def full_pages(pages: list[list[Any]], size: int) -> None:
    """Every page but the last is full: a page is short only when nothing is left."""
    assert all(len(p) == size for p in pages[:-1]), [len(p) for p in pages]


def manual(
    call: Callable[..., dict[str, Any]],
    *,
    marker_in: str,
    marker_out: str,
    result: Callable[[dict[str, Any]], list[Any]],
    **params: Any,
) -> Iterator[list[Any]]:
    """Pages by hand (operations without a boto3 paginator), bounded like `walk`."""
    marker: str | None = None
    for _ in range(10_000):
        response = call(**params, **({marker_in: marker} if marker else {}))
        yield result(response)
        marker = response.get(marker_out)
        if not marker:
            return
    raise AssertionError("the walk did not end")
