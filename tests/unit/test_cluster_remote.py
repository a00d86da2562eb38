"""A frontend's remote runs over real sockets: a worker that refuses the connection is
skipped for the next one (nothing was sent), a worker that dies after the request went out
is a ServiceException at once (no retry, no hang), an answer comes back unchanged, and the
request a worker gets is signed."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

import pytest

from lambent.clock import SystemClock
from lambent.cluster import secret, wire
from lambent.cluster.client import InternalClient
from lambent.cluster.remote import NoWorker, RemoteRunner, Ticket
from lambent.environments.invocation import InvocationRequest, InvocationResult
from lambent.errors import InternalFailure, TooManyRequests
from lambent.functions.model import FunctionVersion
from lambent.http.messages import Request, Response
from lambent.http.server import HttpServer

KEY = b"s" * 40
VERSION = FunctionVersion(
    account_id="123456789012",
    region="us-east-1",
    function_name="fn",
    version="$LATEST",
    function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
    revision_id="r",
    runtime="python3.12",
    handler="h.h",
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
    snapstart=False,
    fingerprint="f",
)
REQ = InvocationRequest(request_id="req-1", payload=b'{"x":1}', invoked_arn=VERSION.function_arn)


class Listed:
    """Workers in a fixed order; what the runner reported failed."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = list(addresses)
        self.failures: list[str] = []
        self.open = 0  # tickets not released

    def choose(self, version: FunctionVersion, exclude: Collection[str]) -> Ticket | None:
        address = next((a for a in self.addresses if a not in exclude), None)
        if address is None:
            return None
        self.open += 1
        return Ticket(address, self._release)

    def _release(self) -> None:
        self.open -= 1

    def failed(self, address: str) -> None:
        self.failures.append(address)


def _runner(workers: Listed) -> RemoteRunner:
    return RemoteRunner(workers, InternalClient(), KEY, SystemClock(), init_timeout_s=1.0)


async def _serve(handler: object) -> tuple[HttpServer, str]:
    server = HttpServer(handler)  # type: ignore[arg-type]
    (host, port), *_ = await server.listen("127.0.0.1", 0)
    return server, f"{host}:{port}"


def _refused() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


async def test_an_answer_comes_back_unchanged_and_the_request_was_signed() -> None:
    seen: list[Request] = []

    async def worker(req: Request) -> Response:
        seen.append(req)
        result = InvocationResult(
            payload=b'{"errorMessage":"no"}', executed_version="$LATEST", function_error="Unhandled"
        )
        return Response(200, result.payload, wire.result_headers(result))

    server, address = await _serve(worker)
    dead = _refused()
    workers = Listed(dead, address)
    try:
        result = await _runner(workers).run(VERSION, REQ)
        again = await _runner(workers).run(VERSION, REQ)
    finally:
        await server.close()
    assert result.payload == b'{"errorMessage":"no"}' and result.function_error == "Unhandled"
    assert again == result
    assert workers.failures == [dead, dead]  # refused: skipped, nothing sent there
    assert workers.open == 0
    req = seen[0]
    assert (
        secret.verify(KEY, "POST", req.raw_path, req.body, req.headers, req_time(req), 30) is None
    )
    assert wire.parse_request(req.headers, req.body)[1] == REQ


def req_time(req: Request) -> float:
    return float(req.headers[secret.DATE_HEADER])


async def test_a_worker_that_dies_mid_invocation_is_a_service_error_at_once() -> None:
    got = asyncio.Event()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        got.set()
        writer.transport.abort()  # the worker's process is gone: RST, no answer

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    other_calls: list[Request] = []

    async def other(req: Request) -> Response:
        other_calls.append(req)
        return Response(500)

    second, other_address = await _serve(other)
    workers = Listed(f"{host}:{port}", other_address)
    try:
        with pytest.raises(InternalFailure) as caught:
            await asyncio.wait_for(_runner(workers).run(VERSION, REQ), 10)
    finally:
        server.close()
        await second.close()
    assert got.is_set() and caught.value.code == "ServiceException"
    assert not other_calls  # it may have run: not run again elsewhere
    assert workers.failures == [f"{host}:{port}"] and workers.open == 0


async def test_no_worker_and_a_worker_throttle_are_the_clients_answers() -> None:
    with pytest.raises(NoWorker):
        await _runner(Listed(_refused())).run(VERSION, REQ)

    async def throttling(req: Request) -> Response:
        body = wire.error_body(TooManyRequests("Rate exceeded.", reason="CallerRateLimitExceeded"))
        return Response(409, body)

    server, address = await _serve(throttling)
    try:
        with pytest.raises(TooManyRequests):
            await _runner(Listed(address)).run(VERSION, REQ)
    finally:
        await server.close()
