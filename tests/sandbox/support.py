"""Helpers for the sandbox tests: a sandbox on its own event loop, function code on disk,
and just enough of the Runtime API to drive an environment (GET /next, POST response).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import stat
import textwrap
import time
import uuid
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from lambent.runtimes.registry import guest_dir, launch_for
from lambent.sandbox.interface import EnvironmentSpec, RuntimeLaunch, TemplateSpec
from lambent.sandbox.namespaces import NamespacesConfig, NamespacesSandbox, unavailable_reason
from lambent.sandbox.namespaces.environment import NamespaceEnvironment
from lambent.sandbox.namespaces.template import NamespaceTemplate

T = TypeVar("T")
ATTACKS = Path(__file__).resolve().parent / "attacks"
PYTHON = "/usr/bin/python3.11"
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
    "LAMBDA_TASK_ROOT": "/var/task",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
    "AWS_LAMBDA_FUNCTION_NAME": "probe",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/probe",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0",
    "AWS_REGION": "us-east-1",
}


def require_sandbox() -> None:
    """Skip without root/namespaces, unless CI says the capability must be there."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("LAMBENT_REQUIRE_SANDBOX") == "1":
        pytest.fail(f"LAMBENT_REQUIRE_SANDBOX=1 but the namespaces sandbox cannot run: {reason}")
    pytest.skip(f"namespaces sandbox unavailable: {reason}")


def env_id() -> str:
    return uuid.uuid4().hex


class Harness:
    """A started NamespacesSandbox and the event loop it lives on."""

    def __init__(self, work: Path, **config: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.work = work
        self.sandbox = NamespacesSandbox(NamespacesConfig(work=work / "sandbox", **config))
        self.run(self.sandbox.start())

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def close(self) -> None:
        self.run(self.sandbox.close())
        self.loop.close()

    def code_dir(self, files: Mapping[str, str], executable: tuple[str, ...] = ()) -> Path:
        """A function's code, world-readable as extracted code is (root-owned, 0755/0644)."""
        root = self.work / "code" / uuid.uuid4().hex[:8]
        root.mkdir(parents=True)
        root.chmod(0o755)
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
            mode = 0o755 if name in executable else 0o644
            path.chmod(mode)
        return root

    def template(
        self,
        code: Path,
        *,
        launch: RuntimeLaunch | None = None,
        handler: str = "app.handler",
        network: str = "egress",
        snapstart: bool = False,
        memory_mb: int = 1024,
        layers: tuple[Path, ...] = (),
        env: Mapping[str, str] | None = None,
    ) -> NamespaceTemplate:
        spec = TemplateSpec(
            key=uuid.uuid4().hex,
            account_id="123456789012",
            function_name="probe",
            version="1",
            launch=launch or launch_for("python3.11"),
            handler=handler,
            code_dir=code,
            layer_dirs=layers,
            guest_dir=guest_dir(),
            network="egress" if network == "egress" else "none",
            snapstart=snapstart,
            memory_mb=memory_mb,
            base_env={**BASE_ENV, "_HANDLER": handler, **(env or {})},
        )
        return self.run(self.sandbox.template(spec))

    def spawn(
        self,
        template: NamespaceTemplate,
        memory_mb: int = 1024,
        ephemeral_mb: int = 512,
        env: Mapping[str, str] | None = None,
    ) -> NamespaceEnvironment:
        spec = EnvironmentSpec(env_id(), memory_mb, ephemeral_mb, dict(env or {}))
        return self.run(template.spawn(spec))

    def destroy(self, env: NamespaceEnvironment, grace_s: float = 0.5) -> Any:
        return self.run(env.destroy(grace_s))


def script_launch() -> RuntimeLaunch:
    """A `provided` runtime whose bootstrap is /var/task/bootstrap."""
    return RuntimeLaunch(
        name="provided.al2023", kind="provided", argv=("/var/task/bootstrap",), interpreter=None
    )


def script_code(harness: Harness, attack: str, extra: Mapping[str, str] | None = None) -> Path:
    """Code whose bootstrap runs an attack module as a script (prints one JSON line)."""
    files = {
        "bootstrap": f"#!/bin/sh\nexec {PYTHON} -S /var/task/attack.py\n",
        "attack.py": (ATTACKS / f"{attack}.py").read_text(),
        **(extra or {}),
    }
    return harness.code_dir(files, executable=("bootstrap",))


def read_output(env: NamespaceEnvironment, harness: Harness, timeout: float = 30.0) -> bytes:
    """Everything the environment prints until it exits (or the timeout)."""

    async def collect() -> bytes:
        loop = asyncio.get_running_loop()
        chunks: list[bytes] = []
        done = asyncio.Event()

        def readable() -> None:
            try:
                data = os.read(env.output_fd, 65536)
            except BlockingIOError:
                return
            if data:
                chunks.append(data)
            else:
                loop.remove_reader(env.output_fd)
                done.set()

        loop.add_reader(env.output_fd, readable)
        try:
            await asyncio.wait_for(done.wait(), timeout)
        finally:
            with contextlib.suppress(ValueError):
                loop.remove_reader(env.output_fd)
        return b"".join(chunks)

    return harness.run(collect(), timeout + 5)


def result_of(output: bytes) -> dict[str, Any]:
    """The last JSON line an attack printed."""
    for line in reversed(output.decode(errors="replace").splitlines()):
        if line.startswith("{"):
            parsed: dict[str, Any] = json.loads(line)
            return parsed
    raise AssertionError(f"no JSON result in output:\n{output.decode(errors='replace')}")


@dataclass
class Invocation:
    """One request served over an environment's Runtime API socket."""

    body: bytes
    status: int = 0
    response: bytes = b""
    path: str = ""
    first_next_s: float = 0.0
    requests: list[str] = field(default_factory=list)


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return lines[0], body


async def serve_one(env: NamespaceEnvironment, event: Any, timeout: float = 30.0) -> Invocation:
    """Answer the first GET /next with `event`; return what the function posted back."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    inv = Invocation(body=json.dumps(event).encode())
    conn, _ = await asyncio.wait_for(loop.sock_accept(env.runtime_api_socket), timeout)
    reader, writer = await asyncio.open_connection(sock=conn)
    try:
        line, _ = await asyncio.wait_for(_read_request(reader), timeout)
        inv.requests.append(line)
        inv.first_next_s = time.perf_counter() - started
        if not line.startswith("GET ") or "/invocation/next" not in line:
            inv.path = line
            return inv
        request_id = str(uuid.uuid4())
        deadline = int(time.time() * 1000) + 60_000
        headers = (
            "HTTP/1.1 200 OK\r\n"
            f"Lambda-Runtime-Aws-Request-Id: {request_id}\r\n"
            f"Lambda-Runtime-Deadline-Ms: {deadline}\r\n"
            "Lambda-Runtime-Invoked-Function-Arn: "
            "arn:aws:lambda:us-east-1:123456789012:function:probe\r\n"
            "Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(inv.body)}\r\n\r\n"
        )
        writer.write(headers.encode() + inv.body)
        await writer.drain()
        line, body = await asyncio.wait_for(_read_request(reader), timeout)
        inv.requests.append(line)
        inv.path = line.split()[1]
        inv.response = body
        writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        inv.status = 202
        return inv
    finally:
        writer.close()


async def first_next(env: NamespaceEnvironment, timeout: float = 30.0) -> float:
    """Seconds until the environment's runtime sends its first GET /next."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    conn, _ = await asyncio.wait_for(loop.sock_accept(env.runtime_api_socket), timeout)
    reader, writer = await asyncio.open_connection(sock=conn)
    try:
        line, _ = await asyncio.wait_for(_read_request(reader), timeout)
        if "/invocation/next" not in line:
            raise AssertionError(f"expected GET /next, got {line}")
        return time.perf_counter() - started
    finally:
        writer.close()


@contextlib.contextmanager
def harness(tmp: Path, **config: Any) -> Iterator[Harness]:
    require_sandbox()
    h = Harness(tmp, **config)
    try:
        yield h
    finally:
        h.close()
        shutil.rmtree(tmp / "code", ignore_errors=True)


def world_readable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IROTH)


def tcp_probe(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
