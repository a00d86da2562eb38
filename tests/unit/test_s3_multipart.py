"""Multipart uploads on a real store: assembly, S3's part rules, and the bytes they hold."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lambent.blocking import BlockingWork
from lambent.clock import ManualClock
from lambent.errors import S3BucketNotEmpty, S3InvalidArgument, S3InvalidPart, S3NoSuchUpload
from lambent.s3.multipart import MIN_PART_SIZE, Requested
from lambent.s3.objects import Attributes
from lambent.s3.service import S3
from lambent.store.sqlite import SqliteStore

A = "111111111111"


@pytest.fixture
async def s3(tmp_path: Path) -> AsyncIterator[S3]:
    store = SqliteStore(tmp_path / "state.db")
    work = BlockingWork(2)
    service = S3(store, tmp_path / "s3", ManualClock(), work)
    await service.buckets.create(A, "us-east-1", "bkt", None)
    yield service
    work.close()
    await store.close()


def files(s3: S3) -> int:
    return sum(1 for p in s3.content.path("00").parent.parent.rglob("*") if p.is_file())


async def part(s3: S3, upload: str, number: int, data: bytes, key: str = "k") -> Requested:
    stored = await s3.uploads.put_part(
        A, "bkt", key, upload, number, s3.content.write(data), data, {}
    )
    return Requested(number, stored.etag)


async def test_parts_join_into_one_object_with_a_multipart_etag(s3: S3) -> None:
    upload = await s3.uploads.create(A, "bkt", "k", Attributes("application/zip", {"m": "1"}))
    one, two = b"a" * MIN_PART_SIZE, b"tail"
    done = [await part(s3, upload, 1, one), await part(s3, upload, 2, two)]
    await part(s3, upload, 3, b"uploaded but not named in the completion")
    _, version = await s3.uploads.complete(A, "bkt", "k", upload, done, {})
    md5s = hashlib.md5(one).digest() + hashlib.md5(two).digest()
    assert version.etag == f'"{hashlib.md5(md5s).hexdigest()}-2"'
    assert version.content_type == "application/zip" and version.metadata == {"m": "1"}
    assert await s3.objects.read((await s3.objects.get(A, "bkt", "k", None))[1]) == one + two
    assert files(s3) == 1  # the parts are freed once the object holds the bytes
    with pytest.raises(S3NoSuchUpload):
        await s3.uploads.complete(A, "bkt", "k", upload, done, {})


async def test_a_part_uploaded_again_replaces_the_first(s3: S3) -> None:
    upload = await s3.uploads.create(A, "bkt", "k", Attributes("text/plain"))
    await part(s3, upload, 1, b"first try")
    again = await part(s3, upload, 1, b"second try")
    assert files(s3) == 1
    await s3.uploads.complete(A, "bkt", "k", upload, [again], {})
    assert await s3.objects.read((await s3.objects.get(A, "bkt", "k", None))[1]) == b"second try"


async def test_completion_rules(s3: S3) -> None:
    upload = await s3.uploads.create(A, "bkt", "k", Attributes("text/plain"))
    small = await part(s3, upload, 1, b"small")
    last = await part(s3, upload, 2, b"last")
    cases = [
        ([last, small], "InvalidPartOrder"),
        ([small, small], "InvalidPartOrder"),
        ([Requested(1, '"0000"')], "InvalidPart"),
        ([Requested(7, small.etag)], "InvalidPart"),
        ([small, last], "EntityTooSmall"),
    ]
    for requested, code in cases:
        with pytest.raises(S3InvalidPart) as err:
            await s3.uploads.complete(A, "bkt", "k", upload, requested, {})
        assert err.value.code == code
    with pytest.raises(S3InvalidArgument):
        await part(s3, upload, 10_001, b"x")
    with pytest.raises(S3NoSuchUpload):
        await s3.uploads.check(A, "bkt", "other-key", upload)


async def test_abort_and_bucket_delete_free_the_parts(s3: S3) -> None:
    upload = await s3.uploads.create(A, "bkt", "k", Attributes("text/plain"))
    await part(s3, upload, 1, b"one")
    await s3.uploads.abort(A, "bkt", "k", upload)
    assert files(s3) == 0
    with pytest.raises(S3NoSuchUpload):
        await s3.uploads.abort(A, "bkt", "k", upload)
    pending = await s3.uploads.create(A, "bkt", "k", Attributes("text/plain"))
    await part(s3, pending, 1, b"left behind")
    content = s3.content.write(b"obj")
    await s3.objects.put(A, "bkt", "obj", content, b"obj", Attributes("text/plain"))
    with pytest.raises(S3BucketNotEmpty):
        await s3.delete_bucket(A, "bkt")
    await s3.uploads.check(A, "bkt", "k", pending)  # a refused delete leaves the upload alone
    await s3.objects.delete(A, "bkt", "obj", None)
    await s3.delete_bucket(A, "bkt")
    assert files(s3) == 0
