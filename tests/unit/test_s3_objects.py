"""The S3 domain on a real SQLite store and real files: buckets, versions, shared bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import pytest

from lambent.blocking import BlockingWork
from lambent.clock import ManualClock
from lambent.errors import (
    S3AccessDenied,
    S3BucketAlreadyExists,
    S3BucketAlreadyOwnedByYou,
    S3BucketNotEmpty,
    S3InvalidArgument,
    S3InvalidBucketName,
    S3KeyTooLong,
    S3LocationConstraint,
    S3MethodNotAllowed,
    S3NoSuchBucket,
    S3NoSuchKey,
    S3NoSuchVersion,
    S3PermanentRedirect,
)
from lambent.s3.model import NULL_VERSION, ObjectVersion
from lambent.s3.objects import Attributes
from lambent.s3.service import S3
from lambent.s3.versioning import Event
from lambent.store.sqlite import SqliteStore

A, B = "111111111111", "222222222222"
PLAIN = Attributes("text/plain")
T = TypeVar("T")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def s3(tmp_path: Path, clock: ManualClock) -> AsyncIterator[S3]:
    store = SqliteStore(tmp_path / "state.db")
    work = BlockingWork(2)
    yield S3(store, tmp_path / "s3", clock, work)
    work.close()
    await store.close()


async def put(s3: S3, bucket: str, key: str, data: bytes, account: str = A) -> ObjectVersion:
    content = s3.content.write(data)
    return (await s3.objects.put(account, bucket, key, content, data, PLAIN))[1]


async def collect(items: AsyncIterator[T]) -> list[T]:
    return [item async for item in items]


def files(s3: S3) -> set[str]:
    root = s3.content.path("00").parent.parent
    return {p.name for p in root.rglob("*") if p.is_file()}


async def test_bucket_names_are_global_and_buckets_private(s3: S3) -> None:
    await s3.buckets.create(A, "us-east-1", "shared", None)
    with pytest.raises(S3BucketAlreadyExists):
        await s3.buckets.create(B, "us-east-1", "shared", None)
    # us-east-1 answers a repeated create of your own bucket with success (legacy), others 409.
    assert (await s3.buckets.create(A, "us-east-1", "shared", None)).name == "shared"
    await s3.buckets.create(A, "eu-west-1", "west", "eu-west-1")
    with pytest.raises(S3BucketAlreadyOwnedByYou):
        await s3.buckets.create(A, "eu-west-1", "west", "eu-west-1")
    assert [b.name for b in await s3.buckets.list(A)] == ["shared", "west"]
    assert await s3.buckets.list(B) == []
    with pytest.raises(S3AccessDenied):
        await s3.buckets.get(B, "shared")
    with pytest.raises(S3NoSuchBucket):
        await s3.buckets.get(A, "missing")


@pytest.mark.parametrize(
    ("constraint", "endpoint", "region", "code"),
    [
        (None, "us-east-1", "us-east-1", None),
        ("eu-west-1", "eu-west-1", "eu-west-1", None),
        ("EU", "eu-west-1", "eu-west-1", None),
        (None, "us-west-2", None, "IllegalLocationConstraintException"),
        ("us-east-1", "us-east-1", None, "InvalidLocationConstraint"),
        ("eu-west-1", "us-west-2", None, "IllegalLocationConstraintException"),
    ],
)
async def test_location_constraints(
    s3: S3, constraint: str | None, endpoint: str, region: str | None, code: str | None
) -> None:
    if code is None:
        assert (await s3.buckets.create(A, endpoint, "b-1", constraint)).region == region
    else:
        with pytest.raises(S3LocationConstraint) as err:
            await s3.buckets.create(A, endpoint, "b-1", constraint)
        assert err.value.code == code


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "Upper",
        "under_score",
        "-start",
        "end-",
        "two..dots",
        "192.168.1.1",
        "xn--punycode",
        "name-s3alias",
        "dot-.dash",
    ],
)
async def test_invalid_bucket_names(s3: S3, name: str) -> None:
    with pytest.raises(S3InvalidBucketName):
        await s3.buckets.create(A, "us-east-1", name, None)


async def test_delete_bucket_needs_it_empty(s3: S3) -> None:
    await s3.buckets.create(A, "us-east-1", "b-1", None)
    await put(s3, "b-1", "k", b"x")
    with pytest.raises(S3BucketNotEmpty):
        await s3.buckets.delete(A, "b-1")
    await s3.objects.delete(A, "b-1", "k", None)
    await s3.buckets.delete(A, "b-1")
    with pytest.raises(S3NoSuchBucket):
        await s3.buckets.get(A, "b-1")
    await s3.buckets.create(B, "us-east-1", "b-1", None)  # the name is free again


async def test_unversioned_puts_replace_and_deletes_remove(s3: S3) -> None:
    await s3.buckets.create(A, "us-east-1", "b-1", None)
    first = await put(s3, "b-1", "k", b"one")
    second = await put(s3, "b-1", "k", b"two")
    assert first.version_id == second.version_id == NULL_VERSION
    assert first.etag == '"f97c5d29941bfb1b2fdab0874906ab82"'  # MD5("one")
    _, current = await s3.objects.get(A, "b-1", "k", None)
    assert await s3.objects.read(current) == b"two"
    assert await s3.objects.read(current, 1, 1) == b"w"
    assert (await s3.objects.get(A, "b-1", "k", NULL_VERSION))[1] == current
    with pytest.raises(S3InvalidArgument):
        await s3.objects.get(A, "b-1", "k", "some-version")
    assert files(s3) == {second.content.sha256}  # type: ignore[union-attr]
    deleted = await s3.objects.delete(A, "b-1", "k", None)
    assert (deleted.version_id, deleted.delete_marker) == (None, False)
    with pytest.raises(S3NoSuchKey):
        await s3.objects.get(A, "b-1", "k", None)
    assert files(s3) == set()
    await s3.objects.delete(A, "b-1", "never-was", None)  # S3 answers 204 either way


async def test_versioning_keeps_versions_and_delete_adds_markers(
    s3: S3, clock: ManualClock
) -> None:
    await s3.buckets.create(A, "us-east-1", "b-1", None)
    old = await put(s3, "b-1", "k", b"before versioning")
    await s3.buckets.set_versioning(A, "b-1", Event.ENABLE)
    v1 = await put(s3, "b-1", "k", b"v1")
    clock.advance(1)
    v2 = await put(s3, "b-1", "k", b"v2")
    assert len({old.version_id, v1.version_id, v2.version_id}) == 3
    assert await s3.objects.read((await s3.objects.get(A, "b-1", "k", v1.version_id))[1]) == b"v1"
    assert (
        await s3.objects.read((await s3.objects.get(A, "b-1", "k", NULL_VERSION))[1])
        == b"before versioning"
    )
    with pytest.raises(S3NoSuchVersion):
        await s3.objects.get(A, "b-1", "k", "no-such-version-id")

    marker = await s3.objects.delete(A, "b-1", "k", None)
    assert marker.delete_marker and marker.version_id not in (None, NULL_VERSION)
    with pytest.raises(S3NoSuchKey) as err:
        await s3.objects.get(A, "b-1", "k", None)
    assert err.value.delete_marker == marker.version_id
    with pytest.raises(S3MethodNotAllowed):
        await s3.objects.get(A, "b-1", "k", marker.version_id)
    assert [k for k, _ in await collect(s3.objects.current(A, "b-1", "", None))] == []
    versions = next(iter(await collect(s3.objects.entries(A, "b-1", "", None))))[1]
    assert [v.version_id for v in versions] == [
        marker.version_id,
        v2.version_id,
        v1.version_id,
        NULL_VERSION,
    ]
    undone = await s3.objects.delete(A, "b-1", "k", marker.version_id)
    assert undone.delete_marker and undone.version_id == marker.version_id
    assert await s3.objects.read((await s3.objects.get(A, "b-1", "k", None))[1]) == b"v2"


async def test_suspended_versioning_reuses_the_null_version(s3: S3) -> None:
    await s3.buckets.create(A, "us-east-1", "b-1", None)
    await s3.buckets.set_versioning(A, "b-1", Event.ENABLE)
    kept = await put(s3, "b-1", "k", b"kept")
    await s3.buckets.set_versioning(A, "b-1", Event.SUSPEND)
    await put(s3, "b-1", "k", b"null one")
    latest = await put(s3, "b-1", "k", b"null two")
    versions = next(iter(await collect(s3.objects.entries(A, "b-1", "", None))))[1]
    assert [v.version_id for v in versions] == [NULL_VERSION, kept.version_id]
    assert versions[0] == latest
    marker = await s3.objects.delete(A, "b-1", "k", None)
    assert (marker.version_id, marker.delete_marker) == (NULL_VERSION, True)
    versions = next(iter(await collect(s3.objects.entries(A, "b-1", "", None))))[1]
    assert [(v.version_id, v.delete_marker) for v in versions] == [
        (NULL_VERSION, True),
        (kept.version_id, False),
    ]


async def test_identical_bytes_are_stored_once_and_freed_with_the_last_reference(s3: S3) -> None:
    await s3.buckets.create(A, "us-east-1", "b-1", None)
    await s3.buckets.create(B, "us-east-1", "b-2", None)
    one = await put(s3, "b-1", "x", b"same bytes")
    await put(s3, "b-1", "y", b"same bytes")
    await put(s3, "b-2", "z", b"same bytes", account=B)
    assert files(s3) == {one.content.sha256}  # type: ignore[union-attr]
    await s3.objects.delete(A, "b-1", "x", None)
    await s3.objects.delete(B, "b-2", "z", None)
    assert files(s3) == {one.content.sha256}  # type: ignore[union-attr]
    await s3.objects.delete(A, "b-1", "y", None)
    assert files(s3) == set()


async def test_a_writer_rewrites_bytes_unlinked_under_it(s3: S3) -> None:
    """write() found the file present, then a delete freed it before put() took its reference."""
    await s3.buckets.create(A, "us-east-1", "b-1", None)
    content = s3.content.write(b"racy")
    s3.content.path(content.sha256).unlink()
    await s3.objects.put(A, "b-1", "k", content, b"racy", PLAIN)
    assert await s3.objects.read((await s3.objects.get(A, "b-1", "k", None))[1]) == b"racy"


async def test_entries_page_through_the_store_in_key_order(s3: S3) -> None:
    await s3.buckets.create(A, "us-east-1", "b-1", None)
    await s3.buckets.create(A, "us-east-1", "b-2", None)
    keys = [f"p/{i:05d}" for i in range(1003)] + ["p", "q", "o"]
    content = s3.content.write(b"tiny")
    for key in keys:
        await s3.objects.put(A, "b-1", key, content, None, PLAIN)
    await s3.objects.put(A, "b-2", "p/other-bucket", content, None, PLAIN)
    assert [k for k, _ in await collect(s3.objects.entries(A, "b-1", "", None))] == sorted(keys)
    listed = [k for k, _ in await collect(s3.objects.entries(A, "b-1", "p", None))]
    assert listed == sorted(k for k in keys if k.startswith("p"))
    after = [k for k, _ in await collect(s3.objects.entries(A, "b-1", "p/", "p/01000"))]
    assert after == ["p/01001", "p/01002"]


async def test_keys_longer_than_1024_bytes_are_refused(s3: S3) -> None:
    await s3.buckets.create(A, "us-east-1", "b-1", None)
    with pytest.raises(S3KeyTooLong):
        await put(s3, "b-1", "é" * 513, b"x")


async def test_reading_code_checks_region_and_owner(s3: S3) -> None:
    await s3.buckets.create(A, "eu-west-1", "b-1", "eu-west-1")
    await put(s3, "b-1", "code.zip", b"zip")
    assert await s3.read_object(A, "eu-west-1", "b-1", "code.zip", None) == b"zip"
    with pytest.raises(S3PermanentRedirect, match="The bucket is in this region: eu-west-1"):
        await s3.read_object(A, "us-east-1", "b-1", "code.zip", None)
    with pytest.raises(S3AccessDenied):
        await s3.read_object(B, "eu-west-1", "b-1", "code.zip", None)
    with pytest.raises(S3NoSuchKey):
        await s3.read_object(A, "eu-west-1", "b-1", "other.zip", None)
