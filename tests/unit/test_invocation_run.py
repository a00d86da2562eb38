"""One invocation, START to REPORT, in virtual time: the function timeout fires exactly at
its deadline, durations are clock time, and each failure has AWS's shape and log lines."""

from __future__ import annotations

import asyncio
import json

from lambent.environments.lifecycle import EnvState
from lambent.runtime_api.server import MAX_RESPONSE
from tests.unit.fake_runtime import Script, World, request, run, state, version

S = EnvState


async def settle() -> None:
    """Let everything runnable run; no clock time passes (a ManualClock never moves alone)."""
    for _ in range(50):
        await asyncio.sleep(0)


def error_of(payload: bytes) -> tuple[str, str]:
    doc = json.loads(payload)
    return doc["errorType"], doc["errorMessage"]


def test_the_function_timeout_fires_exactly_at_the_deadline() -> None:
    script = Script()

    async def body(w: World) -> None:
        env = w.environment(version(timeout_s=3))
        assert await env.start()
        began = w.clock.time()
        req = request()
        invoked = asyncio.create_task(env.run(req))
        call = await script.call()
        assert int(call.headers["lambda-runtime-deadline-ms"]) == int((began + 3) * 1000)
        w.clock.advance(2.999)
        await settle()
        assert not invoked.done()
        w.clock.advance(0.001)
        result = await invoked
        assert result.function_error == "Unhandled"
        assert result.error_type == "Sandbox.Timedout"
        assert error_of(result.payload) == (
            "Sandbox.Timedout",
            f"RequestId: {req.request_id} Error: Task timed out after 3.00 seconds",
        )
        (report,) = w.sink.starting("REPORT")
        assert "\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t" in report
        assert report.endswith("\tStatus: timeout\tError Type: Sandbox.Timedout\n")
        assert any("Task timed out after 3.00 seconds" in line for line in w.sink.lines)
        assert state(env) is S.DORMANT  # the process is gone; the next invoke inits again
        assert w.template.spawned[0].signals == ["SIGTERM"]

    run(body, program=script)


def test_duration_is_clock_time_from_delivery_to_answer() -> None:
    script = Script()

    async def body(w: World) -> None:
        env = w.environment()
        assert await env.start()
        invoked = asyncio.create_task(env.run(request()))
        call = await script.call()
        w.clock.advance(0.25)
        await call.respond(b'{"a": 1}')
        result = await invoked
        assert result.payload == b'{"a": 1}' and result.duration_ms == 250.0
        assert w.sink.starting("START RequestId: req-")
        (report,) = w.sink.starting("REPORT")
        assert "\tDuration: 250.00 ms\tBilled Duration: 250 ms\tMemory Size: 128 MB\t" in report
        assert "\tMax Memory Used: 40 MB\t" in report
        assert "Status" not in report

    run(body, program=script)


def test_a_function_error_is_a_completed_invocation_that_keeps_the_environment() -> None:
    script = Script()

    async def body(w: World) -> None:
        env = w.environment()
        assert await env.start()
        invoked = asyncio.create_task(env.run(request()))
        await (await script.call()).error("ValueError")
        result = await invoked
        assert (result.function_error, result.error_type) == ("Unhandled", "ValueError")
        assert error_of(result.payload) == ("ValueError", "boom")
        (report,) = w.sink.starting("REPORT")
        assert "Status" not in report  # no Status on a function error's REPORT, as AWS
        await w.until(lambda: state(env) is S.IDLE)
        assert w.template.spawned[0].signals == []

    run(body, program=script)


def test_a_runtime_that_exits_mid_invocation_fails_it_and_resets() -> None:
    script = Script()

    async def body(w: World) -> None:
        env = w.environment()
        assert await env.start()
        req = request()
        invoked = asyncio.create_task(env.run(req))
        call = await script.call()
        call.proc.exit(3)
        result = await invoked
        assert result.error_type == "Runtime.ExitError"
        assert error_of(result.payload) == (
            "Runtime.ExitError",
            f"RequestId: {req.request_id} Error: Runtime exited with error: exit status 3",
        )
        (report,) = w.sink.starting("REPORT")
        assert report.endswith("\tStatus: error\tError Type: Runtime.ExitError\n")
        assert state(env) is S.DORMANT

    run(body, program=script)


def test_an_out_of_memory_kill_is_reported_as_such() -> None:
    script = Script()

    async def body(w: World) -> None:
        env = w.environment()
        assert await env.start()
        invoked = asyncio.create_task(env.run(request()))
        call = await script.call()
        call.proc.oom = True
        call.proc.exit(sig=9)
        result = await invoked
        assert result.error_type == "Runtime.OutOfMemory"
        assert "Runtime exited with error: signal: killed" in error_of(result.payload)[1]
        assert state(env) is S.DORMANT

    run(body, program=script)


def test_a_response_over_the_limit_is_refused_and_fails_the_invocation() -> None:
    script = Script()

    async def body(w: World) -> None:
        env = w.environment()
        assert await env.start()
        invoked = asyncio.create_task(env.run(request()))
        call = await script.call()
        assert await call.respond(b"x" * (MAX_RESPONSE + 1)) == 413
        result = await invoked
        assert result.error_type == "Function.ResponseSizeTooLarge"
        (report,) = w.sink.starting("REPORT")
        assert report.endswith("\tStatus: error\tError Type: Function.ResponseSizeTooLarge\n")

    run(body, program=script)


def test_a_suppressed_init_spends_the_invocation_timeout() -> None:
    """After a failed init the next invocation runs init inside its own timeout: the
    time init takes is gone from the handler's deadline, and an init that never ends times
    the invocation out at the function timeout, with an INIT_REPORT for phase invoke."""

    async def body(w: World) -> None:
        env = w.environment(version(timeout_s=3))
        assert await env.start() is False  # init error: DORMANT
        w.template.program = script = Script(init="wait")
        began = w.clock.time()
        invoked = asyncio.create_task(env.run(request()))
        await w.until(lambda: len(w.template.spawned) == 2)
        w.clock.advance(1.0)
        script.go.set()
        call = await script.call()
        assert int(call.headers["lambda-runtime-deadline-ms"]) == int((began + 3) * 1000)
        w.clock.advance(1.999)
        await settle()
        assert not invoked.done()
        w.clock.advance(0.001)
        assert (await invoked).error_type == "Sandbox.Timedout"

        w.template.program = Script(init="hang")
        invoked = asyncio.create_task(env.run(request()))
        await w.until(lambda: len(w.template.spawned) == 3 and len(w.clock.pending()) > 0)
        w.clock.advance(2.999)
        await settle()
        assert not invoked.done()
        w.clock.advance(0.001)
        result = await invoked
        assert result.error_type == "Sandbox.Timedout"
        assert w.sink.starting("INIT_REPORT")[-1] == (
            "INIT_REPORT Init Duration: 3000.00 ms\tPhase: invoke\tStatus: timeout\n"
        )
        assert state(env) is S.DORMANT

    run(body, program=Script(init="error"))
