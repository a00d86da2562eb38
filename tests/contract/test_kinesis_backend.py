"""The stream-backend contract: the same tests against SQLite and PostgreSQL (marked
`services`). Reopening a backend is a restart (SQLite) or a second node (PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from lambent.kinesis.backend import StreamBackend
from lambent.kinesis.model import NewRecord, StreamRecord

T0 = 1_700_000_000_000
HANG_S = 30.0
ACCOUNT = "123456789012"
Opener = Callable[[], Awaitable[StreamBackend]]


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.services),
    ]
)
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    if request.param == "sqlite":
        from lambent.kinesis.sqlite import SqliteStreams

        async def sqlite() -> StreamBackend:
            return SqliteStreams(tmp_path / "kinesis.db")

        return sqlite
    url = str(request.getfixturevalue("pg_url"))
    from lambent.kinesis.postgres import PgStreams

    async def pg() -> StreamBackend:
        return await PgStreams.open(url)

    return pg


@pytest.fixture
async def b(opener: Opener) -> AsyncIterator[StreamBackend]:
    backend = await asyncio.wait_for(opener(), HANG_S)
    try:
        yield backend
    finally:
        await backend.close()


def stream(name: str = "s", shards: int = 2) -> StreamRecord:
    return StreamRecord(uuid.uuid4().hex, ACCOUNT, "us-east-1", name, shards, 24, T0)


def rec(shard: int, key: str, at: int = T0) -> NewRecord:
    return NewRecord(shard, key, key.encode() + b"\x00\xff", at)


async def test_streams_are_created_once_listed_and_deleted(b: StreamBackend) -> None:
    first = stream("alpha")
    assert await b.create_stream(first)
    assert not await b.create_stream(stream("alpha", 5))
    assert await b.create_stream(stream("beta"))
    assert await b.get_stream(ACCOUNT, "alpha") == first
    assert await b.get_stream("999999999999", "alpha") is None
    assert [s.name for s in await b.list_streams(ACCOUNT, "", 10)] == ["alpha", "beta"]
    assert [s.name for s in await b.list_streams(ACCOUNT, "alpha", 10)] == ["beta"]
    assert await b.set_retention(first.id, 48)
    found = await b.get_stream(ACCOUNT, "alpha")
    assert found is not None and found.retention_hours == 48
    assert await b.delete_stream(first.id)
    assert not await b.delete_stream(first.id)
    assert await b.get_stream(ACCOUNT, "alpha") is None


async def test_positions_are_dense_and_ordered_per_shard(b: StreamBackend) -> None:
    s = stream()
    await b.create_stream(s)
    assert await b.append(s.id, [rec(0, "a"), rec(1, "b"), rec(0, "c")]) == [0, 0, 1]
    assert await b.append(s.id, [rec(0, "d")]) == [2]
    got = await b.read(s.id, 0, 0, 10, 0)
    assert [(r.position, r.partition_key, r.data) for r in got] == [
        (0, "a", b"a\x00\xff"),
        (1, "c", b"c\x00\xff"),
        (2, "d", b"d\x00\xff"),
    ]
    assert [r.position for r in await b.read(s.id, 0, 1, 1, 0)] == [1]
    assert await b.end(s.id, 0) == 3 and await b.end(s.id, 1) == 1


async def test_concurrent_appends_never_share_a_position(b: StreamBackend) -> None:
    s = stream(shards=1)
    await b.create_stream(s)
    batches = [[rec(0, f"{i}-{j}") for j in range(5)] for i in range(8)]
    results = await asyncio.wait_for(
        asyncio.gather(*(b.append(s.id, batch) for batch in batches)), HANG_S
    )
    positions = sorted(p for r in results for p in r)
    assert positions == list(range(40))
    for r in results:
        assert r == sorted(r) and r == list(range(r[0], r[0] + 5))


async def test_an_unknown_stream_refuses_appends(b: StreamBackend) -> None:
    with pytest.raises(KeyError):
        await b.append("gone", [rec(0, "x")])


async def test_timestamps_retention_and_trim(b: StreamBackend) -> None:
    s = stream(shards=1)
    await b.create_stream(s)
    await b.append(s.id, [rec(0, "old", T0), rec(0, "mid", T0 + 10), rec(0, "new", T0 + 20)])
    assert await b.position_at(s.id, 0, T0 + 5) == 1
    assert await b.position_at(s.id, 0, T0 + 99) == 3
    assert [r.partition_key for r in await b.read(s.id, 0, 0, 10, T0 + 10)] == ["mid", "new"]
    assert await b.trim(s.id, T0 + 20) == 2
    assert [r.position for r in await b.read(s.id, 0, 0, 10, 0)] == [2]
    assert await b.end(s.id, 0) == 3


async def test_records_survive_reopening(opener: Opener) -> None:
    first = await opener()
    s = stream()
    try:
        await first.create_stream(s)
        await first.append(s.id, [rec(1, "kept")])
    finally:
        await first.close()
    again = await opener()
    try:
        assert [r.partition_key for r in await again.read(s.id, 1, 0, 10, 0)] == ["kept"]
        assert await again.append(s.id, [rec(1, "next")]) == [1]
    finally:
        await again.close()


async def test_checkpoints_are_per_mapping_and_shard_and_survive_reopening(
    opener: Opener,
) -> None:
    first = await opener()
    s = stream()
    try:
        await first.create_stream(s)
        assert await first.get_checkpoint("m1", s.id, 0) is None
        await first.set_checkpoint("m1", s.id, 0, 5)
        await first.set_checkpoint("m1", s.id, 0, 7)
        await first.set_checkpoint("m2", s.id, 0, 1)
        assert await first.get_checkpoint("m1", s.id, 1) is None
    finally:
        await first.close()
    again = await opener()
    try:
        assert await again.get_checkpoint("m1", s.id, 0) == 7
        assert await again.get_checkpoint("m2", s.id, 0) == 1
    finally:
        await again.close()
