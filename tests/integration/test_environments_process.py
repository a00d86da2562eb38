"""Environments end to end on the process sandbox: a real custom runtime over real HTTP.

The function is a `provided` runtime whose bootstrap speaks the Runtime API with the
standard library, so this exercises the Runtime API server, the environment lifecycle
and the pool without depending on Lambent's own bootstraps.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from lambent.blobs.store import BlobStore
from lambent.clock import Clock, ManualClock, SystemClock
from lambent.environments.environment import Environment
from lambent.environments.invocation import InvocationRequest
from lambent.environments.lifecycle import EnvState
from lambent.environments.manager import EnvironmentManager
from lambent.functions.model import FunctionVersion
from lambent.logs.sink import LogEvent
from lambent.sandbox.process import ProcessSandbox
from lambent.settings import EnvironmentSettings, Settings

T = TypeVar("T")

BOOTSTRAP = """#!/usr/bin/python3.11
import http.client, json, os, signal, sys, time
if os.environ.get("ON_SIGTERM") == "exit":
    def _term(*_):
        print("SIGTERM received", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, _term)
elif os.environ.get("ON_SIGTERM") == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
conn = http.client.HTTPConnection(host, int(port))
count = 0
if os.environ.get("FAIL_INIT"):
    body = json.dumps({"errorMessage": "bad init", "errorType": "Custom.InitError"})
    conn.request("POST", "/2018-06-01/runtime/init/error", body,
                 {"Lambda-Runtime-Function-Error-Type": "Custom.InitError"})
    conn.getresponse().read()
    sys.exit(1)
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    r = conn.getresponse()
    event = json.loads(r.read())
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    count += 1
    print(f"handling {rid} #{count}", flush=True)
    action = event.get("action")
    started = time.time()
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "exit":
        sys.exit(event["code"])
    if action == "error":
        body = json.dumps({"errorMessage": "boom", "errorType": "ValueError"})
        conn.request("POST", f"/2018-06-01/runtime/invocation/{rid}/error", body,
                     {"Lambda-Runtime-Function-Error-Type": "ValueError"})
    else:
        out = json.dumps({"count": count, "event": event, "pid": os.getpid(),
                          "span": [started, time.time()]})
        conn.request("POST", f"/2018-06-01/runtime/invocation/{rid}/response", out)
    conn.getresponse().read()
"""


class Lines:
    def __init__(self) -> None:
        self.events: list[str] = []

    def emit(self, account_id: str, group: str, stream: str, events: list[LogEvent]) -> None:
        self.events.extend(e.message for e in events)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def code_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        zf.writestr(info, BOOTSTRAP)
    return buf.getvalue()


def version(
    blobs: BlobStore, *, timeout_s: int = 3, env: dict[str, str] | None = None
) -> FunctionVersion:
    info = blobs.put(code_zip())
    return FunctionVersion(
        account_id="123456789012",
        region="us-east-1",
        function_name="fn",
        version="$LATEST",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        revision_id=info.sha256_hex[:8] + str(timeout_s) + json.dumps(env or {}),
        runtime="provided.al2023",
        handler="",
        role="arn:aws:iam::123456789012:role/r",
        memory_mb=128,
        timeout_s=timeout_s,
        ephemeral_mb=512,
        environment=env or {},
        layers=(),
        code_sha256_hex=info.sha256_hex,
        code_size=info.size,
        state="Active",
        last_update_status="Successful",
        snapstart=False,
    )


def run(
    tmp_path: Path,
    body: Callable[[EnvironmentManager, BlobStore, Lines], Awaitable[T]],
    clock: Clock | None = None,
) -> T:
    async def main() -> T:
        settings = Settings(
            data_dir=tmp_path, environments=EnvironmentSettings(shutdown_grace_s=0.5)
        )
        blobs = BlobStore(tmp_path, max_unzipped=10**8)
        sink = Lines()
        manager = EnvironmentManager(
            settings, clock or SystemClock(), ProcessSandbox(tmp_path / "sb"), blobs, sink
        )
        await manager.start()
        try:
            return await body(manager, blobs, sink)
        finally:
            await manager.close()

    return asyncio.run(main())


def request(n: int, event: object, *, tail: bool = False) -> InvocationRequest:
    return InvocationRequest(
        request_id=f"req-{n}",
        payload=json.dumps(event).encode(),
        invoked_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        want_tail=tail,
    )


def test_serial_invokes_reuse_one_environment(tmp_path: Path) -> None:
    async def body(manager: EnvironmentManager, blobs: BlobStore, sink: Lines) -> None:
        v = version(blobs)
        counts = []
        for n in range(20):
            async with manager.lease(v) as (env, _):
                result = await env.run(request(n, {"n": n}))
            counts.append(json.loads(result.payload)["count"])
        assert counts == list(range(1, 21))
        assert manager.pool(v).stats().created == 1
        report = [line for line in sink.events if line.startswith("REPORT")]
        assert len(report) == 20
        assert "Init Duration" in report[0] and "Init Duration" not in report[1]

    run(tmp_path, body)


def test_parallel_invokes_get_their_own_environments(tmp_path: Path) -> None:
    async def one(manager: EnvironmentManager, v: FunctionVersion, n: int) -> dict[str, Any]:
        async with manager.lease(v) as (env, _):
            result = await env.run(request(n, {"action": "sleep", "seconds": 1}))
        return dict(json.loads(result.payload))

    async def body(manager: EnvironmentManager, blobs: BlobStore, sink: Lines) -> None:
        v = version(blobs)
        answers = await asyncio.gather(*(one(manager, v, n) for n in range(10)))
        assert len({a["pid"] for a in answers}) == 10
        # In parallel: all ten were sleeping at one moment.
        assert max(a["span"][0] for a in answers) < min(a["span"][1] for a in answers)

    run(tmp_path, body)


def test_timeout_resets_and_next_invoke_reinits(tmp_path: Path) -> None:
    async def body(manager: EnvironmentManager, blobs: BlobStore, sink: Lines) -> None:
        v = version(blobs, timeout_s=1)
        async with manager.lease(v) as (env, _):
            first = await env.run(request(1, {"action": "sleep", "seconds": 5}, tail=True))
            env_id = env.env_id
        err = json.loads(first.payload)
        assert first.function_error == "Unhandled"
        assert err == {
            "errorType": "Sandbox.Timedout",
            "errorMessage": "RequestId: req-1 Error: Task timed out after 1.00 seconds",
        }
        assert any("Status: timeout" in line for line in sink.events)
        async with manager.lease(v) as (env, _):
            second = await env.run(request(2, {"ok": True}))
            assert env.env_id == env_id  # the same environment, re-initialised
        assert json.loads(second.payload)["count"] == 1

    run(tmp_path, body)


def test_exit_and_function_error_shapes(tmp_path: Path) -> None:
    async def body(manager: EnvironmentManager, blobs: BlobStore, sink: Lines) -> None:
        v = version(blobs)
        async with manager.lease(v) as (env, _):
            crashed = await env.run(request(1, {"action": "exit", "code": 3}))
        assert json.loads(crashed.payload) == {
            "errorType": "Runtime.ExitError",
            "errorMessage": "RequestId: req-1 Error: Runtime exited with error: exit status 3",
        }
        async with manager.lease(v) as (env, _):
            failed = await env.run(request(2, {"action": "error"}))
        assert failed.function_error == "Unhandled"
        assert json.loads(failed.payload)["errorType"] == "ValueError"

    run(tmp_path, body)


def test_init_error_is_reported_twice_then_answered(tmp_path: Path) -> None:
    async def body(manager: EnvironmentManager, blobs: BlobStore, sink: Lines) -> None:
        v = version(blobs, env={"FAIL_INIT": "1"})
        async with manager.lease(v) as (env, _):
            result = await env.run(request(1, {}))
        assert result.function_error == "Unhandled"
        assert json.loads(result.payload)["errorType"] == "Custom.InitError"
        reports = [line for line in sink.events if line.startswith("INIT_REPORT")]
        assert [("Phase: init" in r, "Phase: invoke" in r) for r in reports] == [
            (True, False),
            (False, True),
        ]

    run(tmp_path, body)


HANG = 30.0  # real seconds: a bound against a hang only (these steps take milliseconds)


async def parked(env: Environment, timeout: float = HANG) -> None:
    """Wait (bounded) until the runtime is back in /next and the environment is idle."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while env.state not in (EnvState.IDLE, EnvState.FROZEN):
        assert loop.time() < deadline, env.state
        await asyncio.sleep(0.001)


def test_idle_environments_are_reaped_after_keep_alive_and_max_lifetime(tmp_path: Path) -> None:
    """Keep-alive (10 min) and maximum lifetime (4 h) on an injected clock."""
    clock = ManualClock()

    async def body(manager: EnvironmentManager, blobs: BlobStore, sink: Lines) -> None:
        v = version(blobs)
        async with manager.lease(v) as (env, _):
            await env.run(request(1, {}))
        await parked(env)
        pool = manager.pool(v)
        assert pool.stats().total == 1
        clock.advance(599)
        assert manager.reap() == 0  # still inside the keep-alive
        clock.advance(2)
        assert manager.reap() == 1
        await env.closed()
        assert pool.stats().total == 0
        # An environment used a moment ago still goes once it has lived 4 hours.
        async with manager.lease(v) as (old, _):
            await old.run(request(2, {}))
        for _ in range(25):  # 25 x 590 s of invokes: never idle for the keep-alive
            await parked(old)
            clock.advance(590)
            async with manager.lease(v) as (again, _):
                assert again is old
                await again.run(request(3, {}))
            await parked(old)
            manager.reap()
        await old.closed()
        assert old.state is EnvState.DEAD and manager.pool(v).stats().total == 0

    run(tmp_path, body, clock)


def test_shutdown_is_sigterm_then_sigkill_after_the_grace(tmp_path: Path) -> None:
    """A runtime that handles SIGTERM exits cleanly: its environment closes without the
    clock moving at all. One that ignores it is killed only once the clock passes the grace
    period (0.5 s here, Lambda's 2 s by default): the grace runs on the injected clock."""
    clock = ManualClock()

    async def body(manager: EnvironmentManager, blobs: BlobStore, sink: Lines) -> None:
        for mode in ("exit", "ignore"):
            v = version(blobs, env={"ON_SIGTERM": mode})
            async with manager.lease(v) as (env, _):
                await env.run(request(1, {}))
            await parked(env)
            pid = env.pid
            assert pid is not None
            env.retire()
            closing = asyncio.ensure_future(env.closed())
            if mode == "exit":
                async with asyncio.timeout(HANG):
                    await closing
                assert "SIGTERM received\n" in sink.events
            else:
                grace_ends = clock.monotonic() + 0.5
                async with asyncio.timeout(HANG):
                    while grace_ends not in clock.pending():  # SIGTERM sent, grace running
                        await asyncio.sleep(0.001)
                clock.advance(0.499)
                for _ in range(20):
                    await asyncio.sleep(0)
                assert not closing.done() and alive(pid)
                clock.advance(0.001)
                async with asyncio.timeout(HANG):
                    await closing
            assert env.state is EnvState.DEAD and not alive(pid)

    run(tmp_path, body, clock)


def alive(pid: int) -> bool:
    """The process exists and has not exited (it is reaped once it has)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] not in "ZX"
    except (FileNotFoundError, ProcessLookupError):
        return False
