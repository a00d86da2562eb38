"""Firing in virtual time (ManualClock): due instants across DST, at() with DELETE,
retries and the dead-letter queue, and times missed while nothing ran."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from lambent.clock import ManualClock
from lambent.errors import ResourceNotFound
from lambent.schedules.firing import Firer
from lambent.schedules.service import Schedules
from lambent.schedules.sqlite import SqliteSchedules
from lambent.schedules.targets import Targets

A, REGION = "123456789012", "us-east-1"
FN = f"arn:aws:lambda:{REGION}:{A}:function:f"


class FakeFunctions:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []
        self.failing = False

    async def send_to_function(
        self,
        account: str,
        function: str,
        qualifier: str | None,
        payload: bytes,
        trace: str | None = None,
    ) -> str:
        if self.failing:
            raise ResourceNotFound("Function not found")
        self.calls.append((function, payload))
        return "id"


class World:
    def __init__(self, tmp: Path, start: str) -> None:
        self.clock = ManualClock(datetime.fromisoformat(start).timestamp())
        self.backend = SqliteSchedules(tmp / "schedules.db")
        self.functions = FakeFunctions()
        self.schedules = Schedules(self.backend, self.clock)
        self.firer = Firer(self.backend, Targets(self.functions, None), self.clock)
        self.fired_at: list[float] = []

    async def run_until(self, end: float) -> None:
        """Jump to each fire_at in turn and fire, as the firer's loop would."""
        while (nxt := await self.backend.next_fire_at()) is not None and nxt <= end:
            self.clock.advance(max(0.0, nxt - self.clock.time()))
            before = len(self.functions.calls)
            await self.firer.round()
            self.fired_at.extend([self.clock.time()] * (len(self.functions.calls) - before))

    def local(self, tz: str) -> list[str]:
        from zoneinfo import ZoneInfo

        return [datetime.fromtimestamp(t, ZoneInfo(tz)).isoformat() for t in self.fired_at]


@pytest.fixture
async def world(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    w = World(tmp_path, getattr(request, "param", "2027-03-12T00:00:00+00:00"))
    yield w
    await w.backend.close()


def schedule(name: str, expression: str, **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "ScheduleExpression": expression,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": FN, "RoleArn": f"arn:aws:iam::{A}:role/r", "Input": '{"x": 1}'},
        **extra,
    }


async def test_cron_in_new_york_across_spring_forward(world: World) -> None:
    tz = "America/New_York"
    await world.schedules.create(
        A, REGION, schedule("s", "cron(30 2 * * ? *)", ScheduleExpressionTimezone=tz)
    )
    await world.run_until(datetime.fromisoformat("2027-03-16T00:00:00+00:00").timestamp())
    assert world.local(tz) == [
        "2027-03-12T02:30:00-05:00",
        "2027-03-13T02:30:00-05:00",
        # 2027-03-14 02:30 does not exist in New York: skipped, as AWS documents
        "2027-03-15T02:30:00-04:00",
    ]


@pytest.mark.parametrize("world", ["2027-11-06T00:00:00+00:00"], indirect=True)
async def test_cron_in_new_york_across_fall_back(world: World) -> None:
    tz = "America/New_York"
    await world.schedules.create(
        A, REGION, schedule("s", "cron(30 1 * * ? *)", ScheduleExpressionTimezone=tz)
    )
    await world.run_until(datetime.fromisoformat("2027-11-09T00:00:00+00:00").timestamp())
    assert world.local(tz) == [
        "2027-11-06T01:30:00-04:00",
        "2027-11-07T01:30:00-04:00",  # once, though 01:30 happens twice that night
        "2027-11-08T01:30:00-05:00",
    ]


async def test_at_with_delete_fires_once_and_is_deleted(world: World) -> None:
    await world.schedules.create(
        A,
        REGION,
        schedule("once", "at(2027-03-12T10:00:00)", ActionAfterCompletion="DELETE"),
    )
    await world.run_until(world.clock.time() + 7 * 86400)
    assert world.local("UTC") == ["2027-03-12T10:00:00+00:00"]
    assert world.functions.calls == [("f", b'{"x": 1}')]
    assert await world.backend.list_schedules(A, None) == []


async def test_at_without_delete_stays(world: World) -> None:
    await world.schedules.create(A, REGION, schedule("once", "at(2027-03-12T10:00:00)"))
    await world.run_until(world.clock.time() + 86400)
    assert len(world.fired_at) == 1
    assert [d["Name"] for d in await world.backend.list_schedules(A, None)] == ["once"]


async def test_rate_starts_now_and_stops_at_end_date(world: World) -> None:
    now = world.clock.time()
    await world.schedules.create(A, REGION, schedule("r", "rate(1 minute)", EndDate=now + 300))
    await world.run_until(now + 3600)
    assert [t - now for t in world.fired_at] == [0, 60, 120, 180, 240, 300]


async def test_disabled_does_not_fire(world: World) -> None:
    await world.schedules.create(A, REGION, schedule("r", "rate(1 minute)", State="DISABLED"))
    assert await world.backend.next_fire_at() is None


async def test_missed_times_fire_once_within_event_age(world: World) -> None:
    now = world.clock.time()
    await world.schedules.create(A, REGION, schedule("r", "rate(1 minute)"))
    world.clock.advance(3600.5)  # the server was down for an hour
    await world.firer.round()
    assert len(world.functions.calls) == 1  # the first missed time, not sixty
    nxt = await world.backend.next_fire_at()
    assert nxt == now + 3660


async def test_retries_then_dead_letter(world: World) -> None:
    world.functions.failing = True
    target = {"Arn": FN, "RoleArn": "r", "RetryPolicy": {"MaximumRetryAttempts": 2}}
    await world.schedules.create(
        A, REGION, {**schedule("r", "at(2027-03-12T00:10:00)"), "Target": target}
    )
    times = []
    for _ in range(3):
        nxt = await world.backend.next_fire_at()
        assert nxt is not None
        world.clock.advance(nxt - world.clock.time())
        times.append(world.clock.time())
        await world.firer.round()
    assert [round(b - a) for a, b in itertools.pairwise(times)] == [1, 2]
    assert await world.backend.next_fire_at() is None  # gave up (no DLQ configured)
