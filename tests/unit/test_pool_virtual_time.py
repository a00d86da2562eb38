"""The pool of one function version in virtual time, with real environments on a fake
sandbox: which environment a lease gets, waiting for a returning one, reaping by keep-alive
and maximum lifetime, and retiring."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from lambent.environments.environment import Environment
from lambent.environments.lifecycle import EnvState
from lambent.environments.pool import PoolRetired, VersionPool
from tests.unit.fake_runtime import Script, World, request, run, state, version

S = EnvState
KEEP_ALIVE, LIFETIME = 600.0, 4 * 3600.0


def pool_of(w: World, *, provisioned: bool = False) -> VersionPool:
    async def factory(pool: VersionPool) -> Environment:
        env = w.environment(on_available=pool.available, on_crash=pool.crashed)
        env.provisioned = provisioned
        await env.start()
        return env

    return VersionPool(version(), factory, w.clock)


async def invoke(pool: VersionPool, script: Script) -> tuple[Environment, bool]:
    """One invocation through a lease, answered as soon as the runtime has it."""
    async with pool.lease() as (env, created):
        invoked = asyncio.create_task(env.run(request()))
        await (await script.call()).respond()
        await invoked
    return env, created


async def answer_and_park(w: World, env: Environment, script: Script) -> None:
    invoked = asyncio.create_task(env.run(request()))
    await (await script.call()).respond()
    await invoked
    await w.until(lambda: state(env) is S.IDLE)


async def take(pool: VersionPool) -> tuple[Environment, bool]:
    """Which environment a lease gets (given straight back)."""
    async with pool.lease() as leased:
        return leased


def test_a_lease_creates_only_when_nothing_is_idle_and_reuses_the_most_recent() -> None:
    script = Script()

    async def body(w: World) -> None:
        pool = pool_of(w)
        first, created = await invoke(pool, script)
        assert created
        await w.until(lambda: state(first) is S.IDLE)
        again, created = await invoke(pool, script)
        assert again is first and not created
        await w.until(lambda: state(first) is S.IDLE)
        # Two at once: a second environment is created for the second lease.
        async with pool.lease() as (a, created_a), pool.lease() as (b, created_b):
            assert a is first and not created_a
            assert b is not first and created_b
            for env in (b, a):  # b answers and parks first, then a
                await answer_and_park(w, env, script)
        # b's lease ended first, then a's: a is the most recently used.
        assert await take(pool) == (a, False)
        assert pool.stats().total == 2 and pool.created == 2

    run(body, program=script)


def test_a_lease_waits_for_a_returning_environment_instead_of_creating_one() -> None:
    script = Script()

    async def body(w: World) -> None:
        pool = pool_of(w)
        async with pool.lease() as (env, _):
            invoked = asyncio.create_task(env.run(request()))
            call = await script.call()
            await call.api.respond(call.request_id, b'"ok"')  # answered; no /next yet
            await invoked
        assert state(env) is S.RETURNING
        waiting = asyncio.create_task(take(pool))
        await asyncio.sleep(0)
        assert not waiting.done() and len(w.template.spawned) == 1
        call.answered.set()  # the runtime parks
        got, created = await waiting
        assert got is env and not created
        assert len(w.template.spawned) == 1

    run(body, program=script)


def test_when_the_returning_environment_dies_its_waiter_runs_init_again_on_it() -> None:
    script = Script()

    async def body(w: World) -> None:
        pool = pool_of(w)
        async with pool.lease() as (env, _):
            invoked = asyncio.create_task(env.run(request()))
            call = await script.call()
            await call.api.respond(call.request_id, b'"ok"')
            await invoked
        waiting = asyncio.create_task(invoke(pool, script))
        await asyncio.sleep(0)
        call.proc.exit(1)  # it never comes back to /next
        got, created = await waiting
        assert got is env and not created  # the dormant environment, revived
        assert len(w.template.spawned) == 2  # by a new process (a suppressed init)

    run(body, program=script)


def test_a_dormant_environment_is_revived_before_a_new_one_is_created() -> None:
    script = Script()

    async def body(w: World) -> None:
        pool = pool_of(w)
        env, _ = await invoke(pool, script)
        await w.until(lambda: state(env) is S.IDLE)
        w.template.spawned[0].exit(1)
        await w.until(lambda: state(env) is S.DORMANT)
        again, created = await invoke(pool, script)
        assert again is env and not created
        assert pool.created == 1 and len(w.template.spawned) == 2

    run(body, program=script)


def test_a_frozen_environment_is_leased_and_thawed() -> None:
    script = Script()

    async def body(w: World) -> None:
        pool = pool_of(w)
        env, _ = await invoke(pool, script)
        await w.until(lambda: state(env) is S.IDLE)
        w.clock.advance(0.2)
        assert state(env) is S.FROZEN and pool.stats().idle == 1
        again, created = await invoke(pool, script)
        assert again is env and not created
        assert not w.template.spawned[0].frozen

    run(body, program=script)


def test_provisioned_environments_are_served_first_and_never_reaped() -> None:
    script = Script()

    async def body(w: World) -> None:
        pool = pool_of(w)
        on_demand, _ = await invoke(pool, script)
        await w.until(lambda: state(on_demand) is S.IDLE)
        warm = w.environment(on_available=pool.available, on_crash=pool.crashed)
        warm.provisioned = True
        assert await warm.start()
        pool.add_idle(warm)
        served, _ = await invoke(pool, script)
        assert served is warm
        await w.until(lambda: state(warm) is S.IDLE)
        w.clock.advance(KEEP_ALIVE + 1)
        assert pool.reap(KEEP_ALIVE, LIFETIME) == 1
        assert state(warm) is not S.DEAD and state(on_demand) in (S.RETIRING, S.DEAD)

    run(body, program=script)


def test_idle_environments_go_after_the_keep_alive_and_the_maximum_lifetime() -> None:
    script = Script()

    async def body(w: World) -> None:
        pool = pool_of(w)
        env, _ = await invoke(pool, script)
        await w.until(lambda: state(env) is S.IDLE)
        w.clock.advance(KEEP_ALIVE)
        assert pool.reap(KEEP_ALIVE, LIFETIME) == 0  # exactly the keep-alive: still kept
        w.clock.advance(0.001)
        assert pool.reap(KEEP_ALIVE, LIFETIME) == 1
        await env.closed()
        assert state(env) is S.DEAD and pool.stats().total == 0

        old, _ = await invoke(pool, script)
        for _ in range(int(LIFETIME // 590)):  # used every 590 s: never idle 600 s
            await w.until(lambda: state(old) in (S.IDLE, S.FROZEN))
            w.clock.advance(590)
            assert pool.reap(KEEP_ALIVE, LIFETIME) == 0
            again, _ = await invoke(pool, script)
            assert again is old
        await w.until(lambda: state(old) is S.IDLE)
        w.clock.advance(590)
        assert pool.reap(KEEP_ALIVE, LIFETIME) == 1  # past 4 hours of life
        await old.closed()
        assert state(old) is S.DEAD

    run(body, program=script)


def test_a_retired_pool_refuses_leases_and_its_waiters() -> None:
    script = Script()

    async def body(w: World) -> None:
        pool = pool_of(w)
        async with pool.lease() as (env, _):
            invoked = asyncio.create_task(env.run(request()))
            call = await script.call()
            await call.api.respond(call.request_id, b'"ok"')
            await invoked
        waiting = asyncio.create_task(take(pool))
        await asyncio.sleep(0)
        pool.retire()
        with pytest.raises(PoolRetired):
            await waiting
        with pytest.raises(PoolRetired):
            async with pool.lease():
                pass
        assert state(env) is S.DRAINING
        call.answered.set()
        await w.until(lambda: state(env) is not S.DRAINING)
        with contextlib.suppress(Exception):
            await pool.closed()
        assert state(env) is S.DEAD

    run(body, program=script)
