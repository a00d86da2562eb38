"""Range and the If-* preconditions on GetObject/HeadObject."""

from __future__ import annotations

import datetime as dt

import pytest

from lambent.errors import S3InvalidRange, S3NotModified, S3PreconditionFailed
from lambent.s3 import conditions
from lambent.s3.model import Content, ObjectVersion

MODIFIED = dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
VERSION = ObjectVersion(
    key="k",
    version_id="null",
    last_modified=MODIFIED.timestamp() + 0.5,  # sub-second part ignored, as HTTP dates are
    content=Content("0" * 64, 10, "abc"),
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-4", (0, 4)),
        ("bytes=5-", (5, 9)),
        ("bytes=-3", (7, 9)),
        ("bytes=-30", (0, 9)),
        ("bytes=2-100", (2, 9)),
        ("bytes=9-9", (9, 9)),
        ("bytes=4-2", None),  # invalid: the whole object
        ("bytes=0-1,3-4", None),  # several ranges: the whole object
        ("items=0-1", None),
        ("bytes=-", None),
    ],
)
def test_byte_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert conditions.byte_range(header, 10) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=0-", 0), ("bytes=-0", 10)])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(S3InvalidRange) as err:
        conditions.byte_range(header, size)
    assert err.value.fields == {"RangeRequested": header, "ActualObjectSize": size}


def test_preconditions() -> None:
    etag = VERSION.etag
    later = MODIFIED + dt.timedelta(seconds=1)
    earlier = MODIFIED - dt.timedelta(seconds=1)
    conditions.check(VERSION)
    conditions.check(VERSION, if_match=etag, if_none_match='"other"')
    conditions.check(VERSION, if_match="*", if_modified_since=earlier)
    conditions.check(VERSION, if_unmodified_since=MODIFIED)
    with pytest.raises(S3PreconditionFailed):
        conditions.check(VERSION, if_match='"other", "more"')
    with pytest.raises(S3PreconditionFailed):
        conditions.check(VERSION, if_unmodified_since=earlier)
    # If-Match wins over If-Unmodified-Since.
    conditions.check(VERSION, if_match=etag, if_unmodified_since=earlier)
    with pytest.raises(S3NotModified) as err:
        conditions.check(VERSION, if_none_match=etag)
    assert err.value.etag == etag
    with pytest.raises(S3NotModified):
        conditions.check(VERSION, if_modified_since=MODIFIED)
    conditions.check(VERSION, if_modified_since=earlier)
    # If-None-Match (not matching) wins over If-Modified-Since.
    conditions.check(VERSION, if_none_match='"other"', if_modified_since=later)
