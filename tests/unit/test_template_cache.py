"""The template cache in virtual time: budget, keep-alive, handles, dead templates.

The sandbox here is a fake that only counts (what the cache decides is pure logic); the
real templates are exercised by tests/sandbox and tests/integration/test_templates.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from lambent.clock import ManualClock
from lambent.environments.templates import TemplateCache
from lambent.functions.model import FunctionVersion
from lambent.sandbox.interface import EnvironmentSpec, RuntimeLaunch, Template, TemplateSpec

T = TypeVar("T")
MB = 1024 * 1024


@dataclass
class FakeTemplate:
    spec: TemplateSpec
    cost: int
    snapstart_report: None = None
    closed: bool = False
    dead: bool = False
    spawned: list[str] = field(default_factory=list)
    gate: asyncio.Event | None = None

    async def spawn(self, env: EnvironmentSpec) -> Any:
        if self.closed:
            raise OSError("the template process is closed")
        if self.gate is not None:
            await self.gate.wait()
        self.spawned.append(env.env_id)
        return env.env_id

    async def close(self) -> None:
        self.closed = True

    def alive(self) -> bool:
        return not self.dead

    def memory_bytes(self) -> int:
        return self.cost


class FakeSandbox:
    name = "fake"
    isolated = False
    host_address = None

    def __init__(self, cost: int = 4 * MB) -> None:
        self.cost = cost
        self.made: list[FakeTemplate] = []
        self.gate: asyncio.Event | None = None

    async def start(self) -> None:
        return None

    async def template(self, spec: TemplateSpec) -> FakeTemplate:
        made = FakeTemplate(spec, self.cost, gate=self.gate)
        self.made.append(made)
        return made

    async def close(self) -> None:
        return None


def version(name: str, *, snapstart: bool = False) -> FunctionVersion:
    return FunctionVersion(
        account_id="123456789012",
        region="us-east-1",
        function_name=name,
        version="1" if snapstart else "$LATEST",
        function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        revision_id="r",
        runtime="python3.11",
        handler="app.handler",
        role="arn:aws:iam::123456789012:role/r",
        memory_mb=128,
        timeout_s=3,
        ephemeral_mb=512,
        environment={},
        layers=(),
        code_sha256_hex="0" * 64,
        code_size=1,
        state="Active",
        last_update_status="Successful",
        snapstart=snapstart,
    )


def spec_for(v: FunctionVersion) -> TemplateSpec:
    launch = RuntimeLaunch("python3.11", "python", ("/usr/bin/python3.11",), None)
    return TemplateSpec(
        key=v.key,
        account_id=v.account_id,
        function_name=v.function_name,
        version=v.version,
        launch=launch,
        handler=v.handler,
        code_dir=Path("/nonexistent"),
        layer_dirs=(),
        guest_dir=Path("/nonexistent"),
    )


def run(body: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(body())


def cache_of(
    sandbox: FakeSandbox, clock: ManualClock, budget_mb: int = 10, keep_alive: float = 300
) -> TemplateCache:
    return TemplateCache(
        sandbox,  # type: ignore[arg-type]
        clock,
        spec_for,
        budget_bytes=budget_mb * MB,
        keep_alive_s=keep_alive,
    )


def env(n: int) -> EnvironmentSpec:
    return EnvironmentSpec(f"{n:032x}", 128, 512, {})


def test_over_budget_the_least_recently_used_template_is_closed() -> None:
    async def body() -> None:
        sandbox, clock = FakeSandbox(cost=4 * MB), ManualClock()
        cache = cache_of(sandbox, clock, budget_mb=10)
        a, b, c = version("a"), version("b"), version("c")
        await cache.get(a)
        clock.advance(1)
        await cache.get(b)
        clock.advance(1)
        cache.touch(a)  # an invoke of a: b is now the least recently used
        clock.advance(1)
        await cache.get(c)  # 12 MB > 10 MB
        await asyncio.sleep(0)  # the close runs as a task
        closed = {t.spec.function_name for t in sandbox.made if t.closed}
        assert closed == {"b"}
        assert cache.keys() == sorted([a.key, c.key])
        assert cache.stats.evicted == 1 and cache.memory_bytes() == 8 * MB

    run(body)


def test_an_evicted_version_gets_a_new_template_at_its_next_spawn() -> None:
    async def body() -> None:
        sandbox, clock = FakeSandbox(cost=4 * MB), ManualClock()
        cache = cache_of(sandbox, clock, budget_mb=0)
        a, b = version("a"), version("b")
        handle = cache.handle(a, await cache.get(a))
        await cache.get(b)  # a's template goes: b's is the most recently used
        await asyncio.sleep(0)
        assert sandbox.made[0].closed
        assert str(await handle.spawn(env(1))) == env(1).env_id  # not the closed template
        assert [t.spec.function_name for t in sandbox.made] == ["a", "b", "a"]
        assert sandbox.made[2].spawned == [env(1).env_id]
        assert cache.stats.awaited_by_spawns == 1 and cache.stats.started == 3

    run(body)


def test_a_template_forking_an_environment_is_not_evicted() -> None:
    async def body() -> None:
        sandbox, clock = FakeSandbox(cost=4 * MB), ManualClock()
        cache = cache_of(sandbox, clock, budget_mb=0)
        a = version("a")
        handle = cache.handle(a, await cache.get(a))
        gate = asyncio.Event()
        sandbox.made[0].gate = gate
        spawning = asyncio.create_task(handle.spawn(env(1)))
        await asyncio.sleep(0)
        await cache.get(version("b"))  # over budget, but a is busy
        await asyncio.sleep(0)
        assert not sandbox.made[0].closed
        gate.set()
        assert str(await spawning) == env(1).env_id
        cache.enforce()  # no longer busy: now it goes
        await asyncio.sleep(0)
        assert sandbox.made[0].closed

    run(body)


def test_idle_templates_go_after_the_keep_alive_and_invokes_keep_them() -> None:
    async def body() -> None:
        sandbox, clock = FakeSandbox(), ManualClock()
        cache = cache_of(sandbox, clock, budget_mb=100, keep_alive=300)
        a, b = version("a"), version("b")
        await cache.get(a)
        await cache.get(b)
        for _ in range(4):
            clock.advance(100)
            cache.touch(a)  # invoked every 100 s
            cache.enforce()
        await asyncio.sleep(0)
        assert cache.keys() == [a.key]
        assert cache.stats.expired == 1
        clock.advance(301)
        cache.enforce()
        await asyncio.sleep(0)
        assert cache.keys() == [] and all(t.closed for t in sandbox.made)

    run(body)


def test_snapstart_templates_are_pinned() -> None:
    async def body() -> None:
        sandbox, clock = FakeSandbox(cost=40 * MB), ManualClock()
        cache = cache_of(sandbox, clock, budget_mb=1, keep_alive=10)
        snap = version("snap", snapstart=True)
        await cache.get(snap)
        await cache.get(version("other"))
        clock.advance(100)
        cache.enforce()
        await asyncio.sleep(0)
        assert cache.keys() == [snap.key]

    run(body)


def test_a_template_whose_process_died_is_started_again() -> None:
    async def body() -> None:
        sandbox, clock = FakeSandbox(), ManualClock()
        cache = cache_of(sandbox, clock)
        a = version("a")
        first = await cache.get(a)
        sandbox.made[0].dead = True
        second = await cache.get(a)
        assert second is not first and len(sandbox.made) == 2

    run(body)


def test_concurrent_spawns_share_one_template_start() -> None:
    async def body() -> None:
        sandbox, clock = FakeSandbox(), ManualClock()
        cache = cache_of(sandbox, clock)
        a = version("a")
        got = await asyncio.gather(*(cache.get(a, spawning=True) for _ in range(5)))
        assert len({id(t) for t in got}) == 1 and len(sandbox.made) == 1
        assert cache.stats.awaited_by_spawns == 5

    run(body)


def test_a_failed_start_is_counted_and_raised() -> None:
    class Broken(FakeSandbox):
        async def template(self, spec: TemplateSpec) -> FakeTemplate:
            raise OSError("no interpreter")

    async def body() -> None:
        cache = cache_of(Broken(), ManualClock())
        with pytest.raises(OSError):
            await cache.get(version("a"))
        assert cache.stats.failed == 1 and cache.keys() == []

    run(body)


def test_a_create_waits_until_evicted_templates_are_torn_down() -> None:
    class SlowClose(FakeTemplate):
        released: asyncio.Event | None = None

        async def close(self) -> None:
            assert self.released is not None
            await self.released.wait()
            self.closed = True

    class SlowSandbox(FakeSandbox):
        async def template(self, spec: TemplateSpec) -> FakeTemplate:
            made = SlowClose(spec, self.cost)
            made.released = released
            self.made.append(made)
            return made

    released = asyncio.Event()

    async def body() -> None:
        sandbox, clock = SlowSandbox(), ManualClock()
        cache = cache_of(sandbox, clock, budget_mb=0)
        await cache.get(version("a"))
        await cache.get(version("b"))  # a is evicted: its close is still running
        waiting = asyncio.create_task(cache.settle_closes())
        await asyncio.sleep(0)
        assert not waiting.done() and not sandbox.made[0].closed
        released.set()
        await asyncio.wait_for(waiting, 10)
        assert sandbox.made[0].closed

    run(body)


def test_a_spawn_never_gets_a_template_evicted_before_its_turn() -> None:
    """Between a template's start completing and the spawn that waited for it running,
    other tasks run; one may evict it. The spawn must notice and get a live one."""

    async def body() -> None:
        sandbox, clock = FakeSandbox(cost=4 * MB), ManualClock()
        cache = cache_of(sandbox, clock)
        a = version("a")
        real_get = cache.get
        evicted: list[str] = []

        async def get_then_evicted(v: FunctionVersion, *, spawning: bool = False) -> Template:
            template = await real_get(v, spawning=spawning)
            if not evicted:  # what another task's budget check did in the meantime
                evicted.append(v.key)
                cache.drop(v.key)
            return template

        cache.get = get_then_evicted  # type: ignore[method-assign,assignment]
        async with cache.lease(a) as template:
            assert template.alive() and id(template) == id(sandbox.made[1])
            assert str(await template.spawn(env(1))) == env(1).env_id
        await asyncio.sleep(0)
        assert sandbox.made[0].closed and not sandbox.made[1].closed

    run(body)
