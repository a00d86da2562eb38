"""The schedule-store contract: the same tests against SQLite and PostgreSQL. Times are
passed in, so leases lapse without anyone waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from lambent.schedules.backend import ScheduleBackend, Timing

A = "123456789012"
T0 = 1_800_000_000.0
HANG_S = 30.0
Opener = Callable[[], Awaitable[ScheduleBackend]]


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.services),
    ]
)
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    if request.param == "sqlite":
        from lambent.schedules.sqlite import SqliteSchedules

        async def sqlite() -> ScheduleBackend:
            return SqliteSchedules(tmp_path / "schedules.db")

        return sqlite
    url = str(request.getfixturevalue("pg_url"))
    from lambent.schedules.postgres import PgSchedules

    async def pg() -> ScheduleBackend:
        return await PgSchedules.open(url)

    return pg


@pytest.fixture
async def b(opener: Opener) -> AsyncIterator[ScheduleBackend]:
    backend = await asyncio.wait_for(opener(), HANG_S)
    try:
        yield backend
    finally:
        await backend.close()


def sched(name: str, state: str = "ENABLED") -> dict[str, str]:
    return {"Name": name, "State": state}


async def test_groups_and_schedules_crud(b: ScheduleBackend) -> None:
    assert await b.create_group(A, "default", {"Name": "default"})
    assert not await b.create_group(A, "default", {"Name": "again"})
    assert await b.create_group(A, "g", {"Name": "g"})
    assert [g["Name"] for g in await b.list_groups(A)] == ["default", "g"]
    assert await b.put_group(A, "g", {"Name": "g", "Tags": [1]})
    assert await b.get_group(A, "g") == {"Name": "g", "Tags": [1]}
    timing = Timing(T0, T0)
    assert await b.create_schedule(A, "g", "s1", sched("s1"), timing)
    assert not await b.create_schedule(A, "g", "s1", sched("other"), timing)
    assert await b.create_schedule(A, "default", "s2", sched("s2"), timing)
    assert [s["Name"] for s in await b.list_schedules(A, None)] == ["s2", "s1"]
    assert [s["Name"] for s in await b.list_schedules(A, "g")] == ["s1"]
    assert await b.update_schedule(A, "g", "s1", sched("s1", "DISABLED"), timing)
    assert (await b.get_schedule(A, "g", "s1")) == sched("s1", "DISABLED")
    assert not await b.update_schedule(A, "g", "nope", sched("nope"), timing)
    assert await b.delete_group(A, "g")
    assert await b.get_schedule(A, "g", "s1") is None
    assert await b.delete_schedule(A, "default", "s2")
    assert not await b.delete_schedule(A, "default", "s2")
    assert await b.list_schedules("999999999999", None) == []


async def test_claims_due_enabled_unleased(b: ScheduleBackend) -> None:
    await b.create_schedule(A, "default", "due", sched("due"), Timing(T0, T0))
    await b.create_schedule(A, "default", "later", sched("later"), Timing(T0 + 60, T0 + 60))
    await b.create_schedule(A, "default", "off", sched("off", "DISABLED"), Timing(T0, T0))
    await b.create_schedule(A, "default", "done", sched("done"), Timing(None, None))
    assert await b.next_fire_at() == T0
    claimed = await b.claim_due(T0, 10, 30)
    assert [c.name for c in claimed] == ["due"]
    assert claimed[0].due == T0
    assert await b.claim_due(T0 + 1, 10, 30) == []  # leased
    again = await b.claim_due(T0 + 31, 10, 30)  # the lease lapsed: at least once
    assert [c.name for c in again] == ["due"]
    assert await b.settle(again[0], Timing(T0 + 300, T0 + 300, 0), delete=False)
    assert not await b.settle(claimed[0], Timing(T0 + 5, T0 + 5), delete=False)  # stale
    assert [c.name for c in await b.claim_due(T0 + 100, 10, 30)] == ["later"]


async def test_an_update_during_a_fire_wins(b: ScheduleBackend) -> None:
    await b.create_schedule(A, "default", "s", sched("s"), Timing(T0, T0))
    (claimed,) = await b.claim_due(T0, 10, 30)
    await b.update_schedule(A, "default", "s", sched("s"), Timing(T0 + 999, T0 + 999))
    assert not await b.settle(claimed, Timing(None, None), delete=True)
    assert await b.get_schedule(A, "default", "s") is not None
    assert await b.next_fire_at() == T0 + 999


async def test_settle_can_delete(b: ScheduleBackend) -> None:
    await b.create_schedule(A, "default", "s", sched("s"), Timing(T0, T0))
    (claimed,) = await b.claim_due(T0, 10, 30)
    assert await b.settle(claimed, Timing(None, None), delete=True)
    assert await b.get_schedule(A, "default", "s") is None


async def test_durable_across_reopen(opener: Opener) -> None:
    first = await opener()
    await first.create_schedule(A, "default", "s", sched("s"), Timing(T0, T0))
    await first.close()
    second = await opener()
    try:
        assert await second.get_schedule(A, "default", "s") == sched("s")
        assert await second.next_fire_at() == T0
    finally:
        await second.close()


async def test_two_nodes_claim_each_due_once(opener: Opener) -> None:
    nodes = [await opener(), await opener()]
    try:
        for i in range(40):
            await nodes[0].create_schedule(A, "default", f"s{i}", sched(f"s{i}"), Timing(T0, T0))
        got = await asyncio.gather(*(n.claim_due(T0, 7, 30) for n in nodes for _ in range(4)))
        names = [c.name for batch in got for c in batch]
        assert len(names) == len(set(names))
    finally:
        for n in nodes:
            await n.close()
