"""S3 object bytes in a cluster: in PostgreSQL's blob store, counted by reference there.

Two nodes (two S3 services, each with its own pool and data dir) share one metadata store
and one schema: bytes written on one are read on the other, a reference held on either
keeps them, and the last release on any node removes them; none ever lands in a data dir.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from lambent.blobs.interface import BlobMissing
from lambent.blobs.postgres import S3 as S3_NAMESPACE
from lambent.blobs.postgres import PgBlobs, migrate_schema, open_blocking_pool
from lambent.blocking import BlockingWork
from lambent.clock import ManualClock
from lambent.errors import S3NoSuchKey
from lambent.s3.multipart import MIN_PART_SIZE, Requested
from lambent.s3.objects import Attributes
from lambent.s3.service import S3
from lambent.store.sqlite import SqliteStore

pytestmark = pytest.mark.services

A = "111111111111"
PLAIN = Attributes("text/plain")
HANG_S = 60.0


@pytest.fixture
def nodes_blobs(pg_url: str) -> Iterator[tuple[PgBlobs, PgBlobs]]:
    asyncio.run(migrate_schema(pg_url))
    with ExitStack() as stack:
        pools = [open_blocking_pool(pg_url, max_size=2) for _ in range(2)]
        for pool in pools:
            stack.callback(pool.close)
        yield PgBlobs(pools[0], S3_NAMESPACE), PgBlobs(pools[1], S3_NAMESPACE)


@pytest.fixture
async def nodes(
    tmp_path: Path, nodes_blobs: tuple[PgBlobs, PgBlobs]
) -> AsyncIterator[tuple[S3, S3]]:
    store = SqliteStore(tmp_path / "state.db")
    works = [BlockingWork(2), BlockingWork(2)]
    clock = ManualClock()
    made = tuple(
        S3(store, tmp_path / f"node-{i}", clock, works[i], nodes_blobs[i]) for i in range(2)
    )
    await made[0].buckets.create(A, "us-east-1", "bkt", None)
    yield made[0], made[1]
    for work in works:
        work.close()
    await store.close()


async def put(s3: S3, key: str, data: bytes) -> None:
    content = await s3.content.work.run(s3.content.write, data)
    await s3.objects.put(A, "bkt", key, content, data, PLAIN)


async def read(s3: S3, key: str) -> bytes:
    return await s3.objects.read((await s3.objects.get(A, "bkt", key, None))[1])


def refs(blobs: PgBlobs, data: bytes) -> int | None:
    return blobs.refs(hashlib.sha256(data).hexdigest())


async def test_bytes_are_shared_and_counted_across_nodes(
    nodes: tuple[S3, S3], nodes_blobs: tuple[PgBlobs, PgBlobs], tmp_path: Path
) -> None:
    one, two = nodes
    data = os.urandom(2 * 1024 * 1024 + 5)
    await put(one, "first", data)
    await put(two, "second", data)
    assert refs(nodes_blobs[0], data) == 2
    assert await read(two, "first") == data and await read(one, "second") == data
    await one.objects.delete(A, "bkt", "first", None)
    assert refs(nodes_blobs[0], data) == 1
    await put(one, "second", b"replaced")  # the last reference goes with the replaced version
    assert refs(nodes_blobs[1], data) is None
    assert await read(two, "second") == b"replaced"
    assert [p for p in tmp_path.rglob("content/**/*") if p.is_file()] == []


async def test_an_upload_on_one_node_completes_on_the_other(
    nodes: tuple[S3, S3], nodes_blobs: tuple[PgBlobs, PgBlobs]
) -> None:
    one, two = nodes
    upload = await one.uploads.create(A, "bkt", "big", PLAIN)
    parts = [os.urandom(MIN_PART_SIZE), b"tail"]
    done = []
    for number, body in enumerate(parts, 1):
        content = await one.content.work.run(one.content.write, body)
        stored = await one.uploads.put_part(A, "bkt", "big", upload, number, content, body, {})
        done.append(Requested(number, stored.etag))
    await two.uploads.complete(A, "bkt", "big", upload, done, {})
    assert await read(one, "big") == b"".join(parts)
    assert [refs(nodes_blobs[0], p) for p in parts] == [None, None]  # parts freed
    assert refs(nodes_blobs[0], b"".join(parts)) == 1


async def test_a_copy_of_bytes_removed_meanwhile_is_refused(
    nodes: tuple[S3, S3], nodes_blobs: tuple[PgBlobs, PgBlobs]
) -> None:
    one, _ = nodes
    await put(one, "src", b"copied")
    _, version = await one.objects.get(A, "bkt", "src", None)
    assert version.content is not None
    nodes_blobs[1].remove(version.content.sha256)  # as if its last reference went meanwhile
    with pytest.raises(S3NoSuchKey):
        await one.objects.put(A, "bkt", "dst", version.content, None, PLAIN)


def test_a_last_unpin_racing_a_pin_never_loses_the_pinned_bytes(
    nodes_blobs: tuple[PgBlobs, PgBlobs],
) -> None:
    """Node A drops the last reference while node B takes one with the bytes in hand:
    whichever runs first, B's reference ends with the bytes there."""
    a, b = nodes_blobs
    data = os.urandom(3 * 1024 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    for _ in range(20):
        a.pin(digest, data)
        start = threading.Barrier(2)

        def unpin(barrier: threading.Barrier) -> None:
            barrier.wait(HANG_S)
            a.unpin(digest)

        def pin(barrier: threading.Barrier) -> None:
            barrier.wait(HANG_S)
            b.pin(digest, data)

        with ThreadPoolExecutor(2) as pool:
            for f in [pool.submit(unpin, start), pool.submit(pin, start)]:
                f.result(HANG_S)
        assert b.refs(digest) == 1
        assert a.get(digest) == data
        assert b.unpin(digest) is True
        assert not a.exists(digest)
    with pytest.raises(BlobMissing):
        b.pin(digest, None)
