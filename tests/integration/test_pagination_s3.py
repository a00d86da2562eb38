"""S3 listings walked through boto3's paginators against a real server: ListObjects
(Marker/NextMarker), ListObjectsV2 (ContinuationToken, StartAfter), ListObjectVersions
(KeyMarker/VersionIdMarker) and ListBuckets (MaxBuckets/ContinuationToken), with random
keys (`/`, `-`, `_`, digits, spaces, non-ASCII), prefixes, delimiters and page sizes: each
key, version or common prefix once, in S3's order (UTF-8 bytes), and the walk ends
(issue 8 §1.1)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.integration.paging_support import CHEAP, PROPERTY, flat, fresh, walk
from tests.support import ServerProcess

KEY = st.lists(
    st.sampled_from(["a", "b", "/", "-", "_", "1", "10", "2", " ", "é", "~", "+", "%", "a/b"]),
    min_size=1,
    max_size=6,
).map("".join)
KEYS = st.sets(KEY, min_size=1, max_size=15)
DELIMITER = st.sampled_from([None, "/", "-"])


@pytest.fixture(scope="module")
def s3(server: ServerProcess) -> Any:
    return server.client("s3")


def bucket(s3: Any, versioned: bool = False) -> str:
    name = fresh("pg-")
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def expected_listing(
    keys: set[str], prefix: str, delimiter: str | None, after: str
) -> tuple[list[str], list[str]]:
    """(keys, common prefixes) S3 lists, each in UTF-8 byte order, written from S3's rules:
    keys after `after` with the prefix; a key with the delimiter past the prefix folds into
    the common prefix up to and including it."""
    contents: list[str] = []
    prefixes: list[str] = []
    for key in sorted(keys, key=lambda k: k.encode()):
        if not key.startswith(prefix) or key.encode() <= after.encode():
            continue
        at = key.find(delimiter, len(prefix)) if delimiter else -1
        if at < 0:
            contents.append(key)
        elif key[: at + len(delimiter or "")] not in prefixes:
            prefixes.append(key[: at + len(delimiter or "")])
    return contents, prefixes


def check_pages(pages: list[dict[str, Any]], size: int) -> None:
    """Every page holds at most `size` entries, and each page's entries all come after the
    entries of the pages before it."""
    last = b""
    for page in pages:
        names = [c["Key"] for c in page.get("Contents", [])]
        names += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert len(names) <= size
        if names:
            assert min(n.encode() for n in names) > last
            last = max(n.encode() for n in names)


def pages_of(s3: Any, operation: str, size: int, **params: Any) -> list[dict[str, Any]]:
    """Every response of the walk (boto3's paginator, MaxKeys = size)."""
    params = {k: v for k, v in params.items() if v}
    pages: list[dict[str, Any]] = []
    paginator = s3.get_paginator(operation)
    for response in paginator.paginate(PaginationConfig={"PageSize": size}, **params):
        pages.append(response)
        assert len(pages) <= 10_000, "the walk did not end"
    return pages


@CHEAP
@given(keys=KEYS, data=st.data(), size=st.integers(1, 8), v2=st.booleans())
def test_list_objects(s3: Any, keys: set[str], data: Any, size: int, v2: bool) -> None:
    """ListObjects (Marker, NextMarker or the last key) and ListObjectsV2 (continuation
    tokens; StartAfter where no delimiter folds keys)."""
    name = bucket(s3)
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=b"x")
    delimiter = data.draw(DELIMITER)
    prefix = data.draw(st.sampled_from(["", *{k[:n] for k in keys for n in range(1, 3)}]))
    after = data.draw(st.sampled_from(["", *sorted(keys)])) if v2 and not delimiter else ""
    operation = "list_objects_v2" if v2 else "list_objects"
    extra = {"StartAfter": after} if v2 else {}
    pages = pages_of(s3, operation, size, Bucket=name, Prefix=prefix, Delimiter=delimiter, **extra)
    check_pages(pages, size)
    contents = [c["Key"] for c in flat([p.get("Contents", []) for p in pages])]
    prefixes = [c["Prefix"] for c in flat([p.get("CommonPrefixes", []) for p in pages])]
    assert (contents, prefixes) == expected_listing(keys, prefix, delimiter, after)


@CHEAP
@given(
    history=st.dictionaries(KEY, st.lists(st.booleans(), min_size=1, max_size=3), max_size=10),
    data=st.data(),
    size=st.integers(1, 8),
)
def test_list_object_versions(
    s3: Any, history: dict[str, list[bool]], data: Any, size: int
) -> None:
    """Keys in order, each key's versions and delete markers newest first; KeyMarker and
    VersionIdMarker resume inside a key's versions."""
    name = bucket(s3, versioned=True)
    made: dict[str, list[str]] = {}  # key -> its version ids, oldest first
    for key, steps in history.items():
        for is_delete in steps:
            if is_delete:  # a delete marker
                out = s3.delete_object(Bucket=name, Key=key)
            else:
                out = s3.put_object(Bucket=name, Key=key, Body=b"x")
            made.setdefault(key, []).append(out["VersionId"])
    age = {v: n for ids in made.values() for n, v in enumerate(ids)}
    delimiter = data.draw(DELIMITER)
    pages = pages_of(s3, "list_object_versions", size, Bucket=name, Delimiter=delimiter)
    seen: list[tuple[str, str]] = []
    prefixes: list[str] = []
    for page in pages:
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        assert len(entries) + len(page.get("CommonPrefixes", [])) <= size
        entries.sort(key=lambda v: (v["Key"].encode(), -age[v["VersionId"]]))
        seen += [(v["Key"], v["VersionId"]) for v in entries]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    keys, folded = expected_listing(set(history), "", delimiter, "")
    assert seen == [(k, v) for k in keys for v in reversed(made[k])]
    assert prefixes == folded


@PROPERTY
@given(
    names=st.sets(
        st.lists(st.sampled_from(["a", "1", "10", "2", "-", "."]), min_size=1, max_size=5)
        .map("".join)
        .map(lambda s: s + "z"),
        min_size=1,
        max_size=10,
    ),
    size=st.integers(1, 12),
)
def test_list_buckets(s3: Any, names: set[str], size: int) -> None:
    """By name, paged with MaxBuckets and ContinuationToken (within a name prefix)."""
    stem = fresh("pb-")
    assume(all(".." not in n and ".-" not in n and "-." not in n for n in names))
    for n in names:
        s3.create_bucket(Bucket=stem + n)
    paginator = s3.get_paginator("list_buckets")
    pages = walk(paginator, lambda r: r.get("Buckets", []), size, Prefix=stem)
    assert [b["Name"] for b in flat(pages)] == sorted(stem + n for n in names)
