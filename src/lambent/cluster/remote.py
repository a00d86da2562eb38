"""A frontend's way of running an invocation: on a worker, over internal HTTP.

The frontend has resolved the version and holds the admission lease (invoke/service.py);
here it asks `Workers` where to run (the placement policy over the live workers), signs
the request with the cluster secret and sends it. The worker's answer comes back as the
same `InvocationResult` a local environment gives (payload, function error, log tail,
executed version), or as the same domain error.

A worker that refuses the connection never got the invocation: it is marked failed and
the next one is tried. A worker whose connection dies after the request went out may have
run it: the client gets a ServiceException at once (AWS's answer when Lambda's own side
fails), never a hang; no retry, since a sync invoke is not idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from lambent.clock import Clock
from lambent.cluster import secret, wire
from lambent.cluster.client import InternalClient, Lost, Unreachable
from lambent.environments.invocation import InvocationRequest, InvocationResult
from lambent.errors import InternalFailure
from lambent.functions.model import FunctionVersion
from lambent.oplog import event

log = logging.getLogger(__name__)

# Beyond the function's timeout, what a worker may take for a cold start (template, init)
# before the frontend stops waiting for a worker that stopped answering.
GRACE_S = 30.0


@dataclass(frozen=True, slots=True)
class Ticket:
    """Where one invocation goes; `release()` once it is over (answered or not), so the
    chooser's view of that worker's load is right until its next snapshot."""

    address: str
    release: Callable[[], None]


class Workers(Protocol):
    """Where invocations can run: the live workers, chosen by the placement policy."""

    def choose(self, version: FunctionVersion, exclude: Collection[str]) -> Ticket | None:
        """A worker for `version`, not one whose address is in `exclude`; None: none."""

    def failed(self, address: str) -> None:
        """`address` refused a connection or died mid-invocation: avoid it until the
        membership says it is alive again."""


class NoWorker(InternalFailure):
    """No live worker can take the invocation."""


class RemoteRunner:
    def __init__(
        self,
        workers: Workers,
        client: InternalClient,
        key: bytes,
        clock: Clock,
        init_timeout_s: float,
    ) -> None:
        self._workers = workers
        self._client = client
        self._key = key
        self._clock = clock
        self._init_timeout = init_timeout_s

    async def run(self, version: FunctionVersion, req: InvocationRequest) -> InvocationResult:
        """Raises PoolRetired (resolve again), the worker's domain error, or
        InternalFailure (no worker, or the worker was lost mid-invocation)."""
        target = wire.Target(
            version.account_id, version.function_name, version.version, version.key
        )
        headers = wire.request_headers(target, req)
        timeout = float(version.timeout_s) + self._init_timeout + GRACE_S
        tried: list[str] = []
        while True:
            ticket = self._workers.choose(version, tried)
            if ticket is None:
                raise NoWorker("No worker is available to run the function. Try again later.")
            address = ticket.address
            signed = [
                *headers,
                *secret.sign(self._key, "POST", wire.INVOKE_PATH, req.payload, self._clock.time()),
            ]
            try:
                answer = await self._client.request(
                    address, "POST", wire.INVOKE_PATH, signed, req.payload, timeout
                )
            except Unreachable as exc:
                ticket.release()
                self._lost(address, req, str(exc), sent=False)
                tried.append(address)
                continue
            except BaseException as exc:
                ticket.release()
                if not isinstance(exc, Lost):
                    raise
                self._lost(address, req, str(exc), sent=True)
                raise InternalFailure(
                    "The worker running the function stopped responding. The function may "
                    "or may not have run."
                ) from exc
            ticket.release()
            if answer.status == 200:
                return wire.parse_result(answer.headers, answer.body)
            if answer.status == 403:
                log.error("worker %s refused our signature: %s", address, answer.body[:200])
                raise InternalFailure("Internal error")
            wire.raise_error(answer.body)
            raise AssertionError("unreachable")  # pragma: no cover - raise_error raises

    def _lost(self, address: str, req: InvocationRequest, why: str, *, sent: bool) -> None:
        self._workers.failed(address)
        self._client.forget(address)
        event(
            log,
            logging.WARNING,
            "cluster.worker_lost" if sent else "cluster.worker_unreachable",
            "worker %s %s: %s",
            address,
            "lost mid-invocation" if sent else "unreachable",
            why,
            request_id=req.request_id,
            worker=address,
        )
