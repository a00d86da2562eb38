"""One execution environment in virtual time: init and its timeout, restore, returning,
freezing, crashes, retiring and the shutdown grace, each timer on a ManualClock."""

from __future__ import annotations

import asyncio

from lambent.environments.lifecycle import EnvState
from tests.unit.fake_runtime import Script, World, request, run, state

S = EnvState


async def settle() -> None:
    """Let everything runnable run; no clock time passes (a ManualClock never moves alone)."""
    for _ in range(50):
        await asyncio.sleep(0)


def test_init_duration_is_clock_time_until_the_first_next() -> None:
    script = Script(init="wait")

    async def body(w: World) -> None:
        env = w.environment()
        starting = asyncio.create_task(env.start())
        await w.until(lambda: bool(w.template.spawned))
        assert state(env) is S.STARTING
        w.clock.advance(1.5)
        script.go.set()
        assert await starting is True
        assert state(env) is S.IDLE
        assert w.sink.starting("INIT_START Runtime Version: provided:al2023.lambent")
        invoked = asyncio.create_task(env.run(request()))
        await (await script.call()).respond()
        await invoked
        (report,) = w.sink.starting("REPORT")
        assert "\tInit Duration: 1500.00 ms\t" in report

    run(body, program=script)


def test_init_timeout_fires_exactly_at_the_deadline() -> None:
    async def body(w: World) -> None:
        env = w.environment()
        starting = asyncio.create_task(env.start())
        await w.until(lambda: bool(w.clock.pending()))  # the init timer is set
        w.clock.advance(9.999)
        await settle()
        assert not starting.done() and state(env) is S.STARTING
        w.clock.advance(0.001)
        assert await starting is False
        assert state(env) is S.DORMANT
        assert w.sink.starting("INIT_REPORT") == [
            "INIT_REPORT Init Duration: 10000.00 ms\tPhase: init\tStatus: timeout\n"
        ]
        assert w.template.spawned[0].signals == ["SIGTERM"]

    run(body, program=Script(init="hang"))


def test_a_failed_init_is_reported_and_the_next_invocation_inits_again() -> None:
    async def body(w: World) -> None:
        env = w.environment()
        assert await env.start() is False
        assert state(env) is S.DORMANT
        (line,) = w.sink.starting("INIT_REPORT")
        assert "Phase: init\tStatus: error\tError Type: Custom.InitError" in line
        w.template.program = script = Script()
        invoked = asyncio.create_task(env.run(request("again")))
        call = await script.call()
        assert call.payload == b'"again"'
        await call.respond(b'"fine"')
        result = await invoked
        assert result.payload == b'"fine"' and result.function_error is None
        assert len(w.template.spawned) == 2  # a new process: the suppressed init

    run(body, program=Script(init="error"))


def test_a_restored_environment_reports_its_restore_not_an_init() -> None:
    script = Script(init="wait")

    async def body(w: World) -> None:
        env = w.environment()
        starting = asyncio.create_task(env.start())
        await w.until(lambda: state(env) is S.RESTORED)  # forked from the snapshot
        w.clock.advance(0.3)
        script.go.set()
        assert await starting is True
        assert state(env) is S.IDLE
        invoked = asyncio.create_task(env.run(request()))
        await (await script.call()).respond()
        result = await invoked
        (report,) = w.sink.starting("REPORT")
        assert "\tRestore Duration: 300.00 ms\t" in report
        assert "Init Duration" not in report
        assert result.cold

    run(body, program=script, restored=True)


def test_an_answered_environment_is_returning_until_its_runtime_parks() -> None:
    script = Script()

    async def body(w: World) -> None:
        env = w.environment()
        assert await env.start()
        invoked = asyncio.create_task(env.run(request()))
        call = await script.call()
        assert state(env) is S.BUSY
        await call.api.respond(call.request_id, b'"ok"')  # the runtime does not /next yet
        await invoked
        await settle()
        assert state(env) is S.RETURNING
        assert w.available == []
        call.answered.set()  # now it calls /next
        await w.until(lambda: state(env) is S.IDLE)
        assert w.available == [env]

    run(body, program=script)


def test_an_idle_environment_is_frozen_after_the_delay_and_thawed_before_its_next_event() -> None:
    script = Script()

    async def body(w: World) -> None:
        env = w.environment()
        assert await env.start()
        proc = w.template.spawned[0]
        invoked = asyncio.create_task(env.run(request()))
        await (await script.call()).respond()
        await invoked
        await w.until(lambda: state(env) is S.IDLE)
        w.clock.advance(0.199)
        assert (state(env), proc.frozen) == (S.IDLE, False)
        w.clock.advance(0.001)
        assert (state(env), env.frozen, proc.frozen) == (S.FROZEN, True, True)
        invoked = asyncio.create_task(env.run(request()))
        call = await script.call()
        assert not call.frozen_on_arrival and state(env) is S.BUSY
        await call.respond()
        await invoked
        assert proc.freezes == 1

    run(body, program=script)


def test_a_busy_environment_is_never_frozen() -> None:
    script = Script()

    async def body(w: World) -> None:
        env = w.environment()
        assert await env.start()
        for _ in range(6):  # 6 x 0.15 s: idle longer than the delay in total, never at once
            invoked = asyncio.create_task(env.run(request()))
            await (await script.call()).respond()
            await invoked
            await w.until(lambda: state(env) is S.IDLE)
            w.clock.advance(0.15)
        assert w.template.spawned[0].freezes == 0

    run(body, program=script)


def test_a_process_dying_between_invocations_leaves_a_dormant_environment() -> None:
    script = Script()

    async def body(w: World) -> None:
        env = w.environment()
        assert await env.start()
        w.clock.advance(0.2)
        assert state(env) is S.FROZEN
        w.template.spawned[0].exit(sig=9)
        await w.until(lambda: bool(w.crashed))
        assert w.crashed == [env] and state(env) is S.DORMANT
        invoked = asyncio.create_task(env.run(request()))
        await (await script.call()).respond()
        assert (await invoked).function_error is None
        assert len(w.template.spawned) == 2

    run(body, program=script)


def test_retiring_a_busy_environment_lets_its_invocation_finish() -> None:
    script = Script()

    async def body(w: World) -> None:
        env = w.environment()
        assert await env.start()
        invoked = asyncio.create_task(env.run(request()))
        call = await script.call()
        env.retire()
        assert state(env) is S.DRAINING
        await call.respond(b'"last"')
        assert (await invoked).payload == b'"last"'
        await w.until(lambda: state(env) is not S.DRAINING)  # the runtime parked: it goes
        await env.closed()
        assert state(env) is S.DEAD
        assert w.template.spawned[0].signals == ["SIGTERM"]
        assert w.available == []  # never offered again

    run(body, program=script)


def test_shutdown_kills_a_runtime_that_ignores_sigterm_once_the_grace_passes() -> None:
    async def body(w: World) -> None:
        env = w.environment()
        assert await env.start()
        proc = w.template.spawned[0]
        env.retire()
        await w.until(lambda: proc.signals == ["SIGTERM"])
        w.clock.advance(1.999)
        await settle()
        assert state(env) is S.RETIRING
        w.clock.advance(0.001)
        await env.closed()
        assert state(env) is S.DEAD
        assert proc.signals == ["SIGTERM", "SIGKILL"]

    run(body, program=Script(), exits_on_sigterm=False)
