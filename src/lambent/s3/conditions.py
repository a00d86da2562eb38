"""Reading part of an object or only if it changed: Range and the If-* preconditions."""

from __future__ import annotations

import datetime as dt
import math
import re

from lambent.errors import S3InvalidRange, S3NotModified, S3PreconditionFailed
from lambent.s3.model import ObjectVersion

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive, or None for the whole object.

    S3 ignores a Range it cannot parse (or one asking for several ranges) and sends the whole
    object; a well-formed range that starts past the end is 416 InvalidRange.
    """
    if not header:
        return None
    m = _RANGE.match(header)
    if m is None:
        return None
    first_text, last_text = m.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # the last N bytes
        count = int(last_text)
        if count == 0 or size == 0:
            raise _unsatisfiable(header, size)
        return max(0, size - count), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None
    if first >= size:
        raise _unsatisfiable(header, size)
    return first, min(last, size - 1)


def _unsatisfiable(header: str, size: int) -> S3InvalidRange:
    return S3InvalidRange(
        "The requested range is not satisfiable",
        fields={"RangeRequested": header, "ActualObjectSize": size},
    )


def _etag_matches(condition: str, etag: str) -> bool:
    wanted = {c.strip().strip('"') for c in condition.split(",")}
    return "*" in wanted or etag.strip('"') in wanted


def _seconds(value: dt.datetime) -> float:
    stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def check(
    version: ObjectVersion,
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
    if_modified_since: dt.datetime | None = None,
    if_unmodified_since: dt.datetime | None = None,
) -> None:
    """RFC 9110 precedence, as S3 applies it: If-Match beats If-Unmodified-Since, If-None-Match
    beats If-Modified-Since; a failed If-Match is 412, an unchanged object is 304."""
    modified = math.floor(version.last_modified)  # HTTP dates have whole seconds
    if if_match is not None:
        if not _etag_matches(if_match, version.etag):
            raise _failed("If-Match")
    elif if_unmodified_since is not None and modified > _seconds(if_unmodified_since):
        raise _failed("If-Unmodified-Since")
    if if_none_match is not None:
        if _etag_matches(if_none_match, version.etag):
            raise _not_modified(version)
    elif if_modified_since is not None and modified <= _seconds(if_modified_since):
        raise _not_modified(version)


def _failed(condition: str) -> S3PreconditionFailed:
    return S3PreconditionFailed(
        "At least one of the pre-conditions you specified did not hold",
        fields={"Condition": condition},
    )


def _not_modified(version: ObjectVersion) -> S3NotModified:
    return S3NotModified("Not Modified", etag=version.etag)
