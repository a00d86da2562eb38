"""A fake sandbox and runtime for unit tests of the environment layer in virtual time.

Everything above the process is real: the environment, its Runtime API server, its HTTP
server on a real loopback socket, its output pipe, the pool. Only the process is fake: a
`FakeProcess` whose "runtime" is a coroutine in this event loop that speaks the Runtime API
over HTTP, as scripted by the test, and whose exit, freeze and SIGTERM handling the test
decides. No real time passes in these tests except the loopback round trips; every timer
runs on a `ManualClock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambent.clock import Clock, ManualClock, SystemClock, within
from lambent.environments.environment import Environment, EnvironmentConfig
from lambent.environments.invocation import InvocationRequest
from lambent.environments.lifecycle import EnvState
from lambent.functions.model import FunctionVersion
from lambent.logs.sink import LogEvent
from lambent.sandbox.interface import (
    EnvironmentSpec,
    ExitStatus,
    RuntimeLaunch,
    SnapStartReport,
    TemplateSpec,
)

PREFIX = "/2018-06-01/runtime"
HANG = 30.0  # real seconds: only a hang takes this long (a test's steps take milliseconds)


class RuntimeClient:
    """The runtime's side of the Runtime API: HTTP/1.1 over one keep-alive connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, address: tuple[str, int]) -> RuntimeClient:
        reader, writer = await asyncio.open_connection(*address)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        lines = [f"{method} {PREFIX}{path} HTTP/1.1", "Host: runtime"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        lines.append(f"Content-Length: {len(body)}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode().split("\r\n")
        got = {
            k.strip().lower(): v.strip()
            for k, _, v in (h.partition(":") for h in header_lines if h)
        }
        data = await self._reader.readexactly(int(got.get("content-length", "0")))
        return int(status_line.split()[1]), got, data

    async def next(self) -> tuple[str, bytes, dict[str, str]]:
        status, headers, body = await self.request("GET", "/invocation/next")
        assert status == 200, (status, body)
        return headers["lambda-runtime-aws-request-id"], body, headers

    async def respond(self, request_id: str, body: bytes) -> int:
        return (await self.request("POST", f"/invocation/{request_id}/response", body))[0]

    async def error(self, request_id: str, error_type: str, message: str = "boom") -> int:
        body = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
        hdr = {"Lambda-Runtime-Function-Error-Type": error_type}
        return (await self.request("POST", f"/invocation/{request_id}/error", body, hdr))[0]

    async def init_error(self, error_type: str) -> int:
        body = json.dumps({"errorMessage": "init failed", "errorType": error_type}).encode()
        hdr = {"Lambda-Runtime-Function-Error-Type": error_type}
        return (await self.request("POST", "/init/error", body, hdr))[0]

    def close(self) -> None:
        self._writer.close()


# A runtime program: what the "process" does once started, given its Runtime API client.
Program = Callable[["FakeProcess", "RuntimeClient"], Awaitable[None]]


async def echo(proc: FakeProcess, api: RuntimeClient) -> None:
    """A well-behaved runtime: answers every event with its payload."""
    while True:
        request_id, payload, _ = await api.next()
        await api.respond(request_id, payload)


@dataclass
class Call:
    """One invocation a `Script` runtime received; the test answers it (or never does)."""

    request_id: str
    payload: bytes
    headers: dict[str, str]
    proc: FakeProcess
    api: RuntimeClient
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    frozen_on_arrival: bool = False

    async def respond(self, body: bytes = b'"ok"') -> int:
        status = await self.api.respond(self.request_id, body)
        self.answered.set()  # the runtime goes back to /next
        return status

    async def error(self, error_type: str) -> int:
        status = await self.api.error(self.request_id, error_type)
        self.answered.set()
        return status


class Script:
    """A runtime that hands every invocation to the test (`await script.call()`), with an
    init the test chooses: "ok", "wait" (until `go` is set), "error" (/init/error, then
    exit 1), "hang" or "crash"."""

    def __init__(self, init: str = "ok") -> None:
        self.init = init
        self.go = asyncio.Event()
        self.calls: asyncio.Queue[Call] = asyncio.Queue()

    async def __call__(self, proc: FakeProcess, api: RuntimeClient) -> None:
        if self.init == "wait":
            await self.go.wait()
        if self.init == "error":
            await api.init_error("Custom.InitError")
            proc.exit(1)
            return
        if self.init == "crash":
            proc.exit(2)
            return
        if self.init == "hang":
            await asyncio.Event().wait()
        while True:
            request_id, payload, headers = await api.next()
            call = Call(request_id, payload, headers, proc, api, frozen_on_arrival=proc.frozen)
            await self.calls.put(call)
            await call.answered.wait()

    async def call(self) -> Call:
        return await self.calls.get()


_pids = itertools.count(100_000)


class FakeProcess:
    """A SandboxedProcess for pure-logic tests. Its runtime is `program`, run as a task."""

    def __init__(
        self,
        env_id: str,
        program: Program,
        *,
        restored: bool,
        exits_on_sigterm: bool,
    ) -> None:
        self.env_id = env_id
        self.pid = next(_pids)
        sock = socket.create_server(("127.0.0.1", 0))
        sock.setblocking(False)
        self.runtime_api_socket = sock
        host, port = sock.getsockname()[:2]
        self.runtime_api_address = f"{host}:{port}"
        self.output_fd, self._write_fd = os.pipe()
        os.set_blocking(self.output_fd, False)
        self.telemetry_fd: int | None = None
        self.restored = restored
        self.exits_on_sigterm = exits_on_sigterm
        self.frozen = False
        self.freezes = 0
        self.signals: list[str] = []
        self.destroyed = asyncio.Event()
        self.oom = False
        self._exit: asyncio.Future[ExitStatus] = asyncio.get_running_loop().create_future()
        self._client: RuntimeClient | None = None
        self._program = asyncio.get_running_loop().create_task(self._run(program))

    async def _run(self, program: Program) -> None:
        host, port = self.runtime_api_address.split(":")
        self._client = await RuntimeClient.connect((host, int(port)))
        await program(self, self._client)

    def exit(self, code: int | None = 0, sig: int | None = None) -> None:
        """The process ends (its runtime stops talking)."""
        if self._exit.done():
            return
        self._program.cancel()
        if self._client is not None:
            self._client.close()
        self._exit.set_result(ExitStatus(code if sig is None else None, sig, self.oom))

    def print(self, text: str) -> None:
        os.write(self._write_fd, text.encode())

    async def wait(self) -> ExitStatus:
        return await asyncio.shield(self._exit)

    def freeze(self) -> None:
        assert not self.frozen, "frozen twice"
        self.frozen = True
        self.freezes += 1

    def thaw(self) -> None:
        self.frozen = False

    def memory_peak_bytes(self) -> int | None:
        return 40 * 1024 * 1024

    def memory_limit_hit(self) -> bool:
        return self.oom

    async def destroy(self, grace_s: float, clock: Clock | None = None) -> ExitStatus:
        """As the real backends: SIGTERM, SIGKILL once `grace_s` of `clock` has passed."""
        self.thaw()
        if not self._exit.done():
            self.signals.append("SIGTERM")
            if self.exits_on_sigterm:
                self.exit(0)
            with contextlib.suppress(TimeoutError):
                await within(clock or SystemClock(), self.wait(), grace_s)
            if not self._exit.done():
                self.signals.append("SIGKILL")
                self.exit(sig=signal.SIGKILL)
        status = await self.wait()
        self.runtime_api_socket.close()
        for fd in (self.output_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.destroyed.set()
        return status


@dataclass
class FakeTemplate:
    """Spawns FakeProcesses running `program` (a test may swap it between spawns)."""

    spec: TemplateSpec
    program: Program = echo
    restored: bool = False
    exits_on_sigterm: bool = True
    snapstart_report: SnapStartReport | None = None
    spawned: list[FakeProcess] = field(default_factory=list)

    async def spawn(self, env: EnvironmentSpec) -> FakeProcess:
        proc = FakeProcess(
            env.env_id,
            self.program,
            restored=self.restored,
            exits_on_sigterm=self.exits_on_sigterm,
        )
        self.spawned.append(proc)
        return proc

    async def close(self) -> None:
        return None

    def alive(self) -> bool:
        return True

    def memory_bytes(self) -> int:
        return 0


class Lines:
    """A log sink that keeps every line."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def emit(self, account_id: str, group: str, stream: str, events: list[LogEvent]) -> None:
        self.lines.extend(e.message for e in events)

    def starting(self, prefix: str) -> list[str]:
        return [line for line in self.lines if line.startswith(prefix)]

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None


def state(env: Environment) -> EnvState:
    """The environment's state, read afresh (it changes behind every await)."""
    return env.state


def version(timeout_s: int = 3, memory_mb: int = 128) -> FunctionVersion:
    return FunctionVersion(
        account_id="123456789012",
        region="us-east-1",
        function_name="fn",
        version="$LATEST",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        revision_id="r1",
        runtime="provided.al2023",
        handler="handler",
        role="arn:aws:iam::123456789012:role/r",
        memory_mb=memory_mb,
        timeout_s=timeout_s,
        ephemeral_mb=512,
        environment={},
        layers=(),
        code_sha256_hex="0" * 64,
        code_size=1,
        state="Active",
        last_update_status="Successful",
        snapstart=False,
    )


CONFIG = EnvironmentConfig(
    init_timeout_s=10.0, shutdown_grace_s=2.0, region="us-east-1", freeze_after_s=0.2
)

_request_ids = itertools.count(1)


def request(payload: Any = None) -> InvocationRequest:
    return InvocationRequest(
        request_id=f"req-{next(_request_ids)}",
        payload=json.dumps(payload if payload is not None else {}).encode(),
        invoked_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
    )


@dataclass
class World:
    """One test's clock, template, log sink and the pool callbacks it saw."""

    clock: ManualClock
    template: FakeTemplate
    sink: Lines
    available: list[Environment] = field(default_factory=list)
    crashed: list[Environment] = field(default_factory=list)
    config: EnvironmentConfig = CONFIG

    def environment(
        self,
        fn: FunctionVersion | None = None,
        *,
        on_available: Callable[[Environment], None] | None = None,
        on_crash: Callable[[Environment], None] | None = None,
    ) -> Environment:
        return Environment(
            f"{len(self.template.spawned):032x}",
            fn or version(),
            self.template,
            config=self.config,
            clock=self.clock,
            sink=self.sink,
            variables={},
            log_stream="stream",
            on_available=on_available or self._available,
            on_crash=on_crash or self._crashed,
        )

    def _available(self, env: Environment) -> None:
        self.available.append(env)

    def _crashed(self, env: Environment) -> None:
        self.crashed.append(env)

    async def until(self, done: Callable[[], bool]) -> None:
        """Wait for `done()`, re-checked whenever the loop has run; no clock time passes.
        Real time is bounded only against a hang."""
        async with asyncio.timeout(HANG):
            while not done():
                await asyncio.sleep(0)


def world(**template: Any) -> World:
    spec = TemplateSpec(
        key="k",
        account_id="123456789012",
        function_name="fn",
        version="$LATEST",
        launch=RuntimeLaunch("provided.al2023", "provided", ("/var/task/bootstrap",), None),
        handler="handler",
        code_dir=Path("/var/task"),  # never read: the fake launches nothing
        layer_dirs=(),
        guest_dir=Path("/var/runtime"),
    )
    return World(ManualClock(), FakeTemplate(spec, **template), Lines())


def run(body: Callable[[World], Awaitable[None]], **template: Any) -> None:
    """Run one test body in a fresh loop, bounded (in real time) only against a hang."""

    async def main() -> None:
        w = world(**template)
        async with asyncio.timeout(HANG):
            await body(w)
        for proc in w.template.spawned:
            proc.exit(sig=signal.SIGKILL)
            await _close(proc)

    asyncio.run(main())


async def _close(proc: FakeProcess) -> None:
    proc.runtime_api_socket.close()
    for fd in (proc.output_fd, proc._write_fd):
        with contextlib.suppress(OSError):
            os.close(fd)
