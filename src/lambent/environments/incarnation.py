"""One runtime process of an environment, with its Runtime API server and output pipe.

An environment has a new incarnation after every reset; each one is torn down as a unit.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from lambent.clock import Clock
from lambent.environments.output import OutputCapture
from lambent.http.server import HttpServer
from lambent.runtime_api.server import RuntimeApi
from lambent.sandbox.interface import EnvironmentSpec, ExitStatus, SandboxedProcess, Template

log = logging.getLogger(__name__)

RUNTIME_API_MAX_BODY = 32 * 1024 * 1024


class Incarnation:
    def __init__(
        self, proc: SandboxedProcess, api: RuntimeApi, http: HttpServer, output: OutputCapture
    ) -> None:
        self.proc = proc
        self.api = api
        self.http = http
        self.output = output
        self.exit_status: ExitStatus | None = None
        self.watcher: asyncio.Task[None] | None = None

    async def teardown(self, grace_s: float, clock: Clock) -> None:
        try:
            await self.proc.destroy(grace_s, clock)
        except Exception:
            log.exception("destroying environment %s failed", self.proc.env_id)
        self.output.close()
        await self.http.close()
        self.api.exited()


async def spawn(
    template: Template,
    spec: EnvironmentSpec,
    *,
    on_idle: Callable[[], None],
    on_lines: Callable[[list[str]], None],
) -> Incarnation:
    proc = await template.spawn(spec)
    api = RuntimeApi(spec.env_id, on_idle=on_idle)
    http = HttpServer(
        api.handle, max_body=RUNTIME_API_MAX_BODY, cancel_on_disconnect=True, fast=api.handle_fast
    )
    # Serve a duplicate: closing our server must not close the sandbox's socket, which a
    # network slot may keep for the next environment.
    await http.serve_socket(proc.runtime_api_socket.dup())
    output = OutputCapture(proc.output_fd, on_lines)
    return Incarnation(proc, api, http, output)


def body_error_type(body: bytes) -> str:
    """The errorType of an error body the runtime posted without the header."""
    try:
        doc = json.loads(body)
    except ValueError:
        return "Unhandled"
    if isinstance(doc, dict) and isinstance(doc.get("errorType"), str):
        return str(doc["errorType"])
    return "Unhandled"
