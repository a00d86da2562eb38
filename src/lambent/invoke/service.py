"""The invoke path: resolve, route, lease an environment, run, answer.

    resolve qualifier (cached) -> alias weights -> state check -> size check
      -> [admission lease] -> environment lease -> invocation

The leases nest as context managers so every exit path (answer, error, timeout, client
gone) gives back what it took. `invoke` is the synchronous caller's: it raises AWS's
errors. `attempt` is the async path's: it returns a typed outcome (invoke/outcome.py) to
decide from, and may run under an admission lease the caller already holds.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import random
import time
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from lambent.clock import Clock
from lambent.concurrency.admission import Admission, Lease
from lambent.concurrency.throttle import Throttle
from lambent.environments.invocation import InvocationRequest, InvocationResult
from lambent.environments.manager import EnvironmentManager
from lambent.environments.pool import PoolRetired
from lambent.errors import (
    InvalidRequestContent,
    InvalidRuntime,
    RequestTooLarge,
    ResourceConflict,
    ResourceNotFound,
    TooManyRequests,
)
from lambent.functions.model import FunctionCatalog, FunctionVersion, Resolved
from lambent.invoke import payload_json
from lambent.invoke.outcome import (
    FunctionFailed,
    InvokeOutcome,
    NotFound,
    NotReady,
    Succeeded,
    Superseded,
    Throttled,
    Unavailable,
)
from lambent.invoke.recursion import RecursionGuard
from lambent.oplog import event
from lambent.settings import Settings

log = logging.getLogger(__name__)
MAX_CLIENT_CONTEXT = 3583


class Remote(Protocol):
    """Runs an invocation somewhere else (a frontend's workers: cluster/remote.py)."""

    async def run(self, version: FunctionVersion, req: InvocationRequest) -> InvocationResult:
        """Raises what a local run raises (PoolRetired, domain errors)."""


@dataclass(frozen=True, slots=True)
class InvokeCall:
    account_id: str
    function: str
    qualifier: str | None
    payload: bytes
    request_id: str
    log_tail: bool = False
    client_context_b64: str | None = None
    trace_id: str | None = None
    region: str | None = None  # the region the caller signed for


def trace_id(now: float) -> str:
    """An X-Ray trace header like Lambda's: Root=1-<epoch hex>-<96 random bits>. The bits
    identify, they protect nothing: a seeded PRNG is enough and costs no system call."""
    return (
        f"Root=1-{int(now):08x}-{random.getrandbits(96):024x};"
        f"Parent={random.getrandbits(64):016x};Sampled=0"
    )


def decode_client_context(encoded: str | None) -> str | None:
    """The runtime gets the client context as JSON text; the caller sends it base64."""
    if not encoded:
        return None
    if len(encoded) > MAX_CLIENT_CONTEXT:
        raise InvalidRequestContent(
            f"Client context must be less than {MAX_CLIENT_CONTEXT} bytes when base64 encoded."
        )
    try:
        text = base64.b64decode(encoded, validate=True).decode()
        json.loads(text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidRequestContent(
            "Client context must be a valid Base64-encoded JSON object."
        ) from exc
    return text


class InvokeService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        catalog: FunctionCatalog,
        environments: EnvironmentManager,
        admission: Admission | None = None,
        remote: Remote | None = None,
    ) -> None:
        self._settings = settings
        # A frontend runs nothing itself: the worker the placement policy picks does.
        self._remote = remote
        self._clock = clock
        self._catalog = catalog
        self._environments = environments
        self._admission = admission
        self._random = random.Random()
        self.recursion = RecursionGuard()

    async def resolve(
        self, account_id: str, function: str, qualifier: str | None, region: str | None = None
    ) -> Resolved:
        """A function lives in one region: called from another, it is not found (as AWS)."""
        return await self._catalog.resolve(account_id, function, qualifier, region=region)

    def route(self, resolved: Resolved) -> FunctionVersion:
        """Pick the version an alias sends this invocation to, by its weights."""
        if resolved.additional_weights:
            roll = self._random.random()
            acc = 0.0
            for version, weight in resolved.additional_weights.items():
                acc += weight
                if roll < acc:
                    return resolved.additional_versions[version]
        return resolved.version

    def check_ready(self, version: FunctionVersion) -> None:
        if version.state != "Active":
            raise ResourceConflict(
                "The operation cannot be performed at this time. The function is currently in "
                f"the following state: {version.state}"
            )

    def check_payload(self, payload: bytes, *, event: bool = False) -> None:
        """A caller's payload must be JSON (AWS refuses it before anything runs, sync or
        async). One over its invocation type's size limit is left to the size check,
        which AWS makes first."""
        limits = self._settings.limits
        if len(payload) > (limits.async_payload if event else limits.sync_payload):
            return
        detail = payload_json.problem(payload)
        if detail is not None:
            raise InvalidRequestContent(payload_json.PREFIX + detail)

    def check_size(self, payload: bytes, limit: int) -> None:
        if len(payload) > limit:
            raise RequestTooLarge(
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
            )

    async def invoke(self, call: InvokeCall) -> InvocationResult:
        """A RequestResponse invocation. Raises domain errors for throttles and bad input."""
        self.check_size(call.payload, self._settings.limits.sync_payload)
        client_context = decode_client_context(call.client_context_b64)
        for attempt in range(3):
            resolved = await self.resolve(
                call.account_id, call.function, call.qualifier, call.region
            )
            version = self.route(resolved)
            self.check_ready(version)
            trace = call.trace_id or trace_id(time.time())
            req = InvocationRequest(
                request_id=call.request_id,
                payload=call.payload,
                invoked_arn=resolved.invoked_arn,
                client_context=client_context,
                trace_id=self.recursion.enter_sync(version, trace, call.request_id),
                want_tail=call.log_tail,
            )
            try:
                return await self.run(version, resolved, req)
            except PoolRetired:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def run(
        self, version: FunctionVersion, resolved: Resolved, req: InvocationRequest
    ) -> InvocationResult:
        lease: AbstractAsyncContextManager[Any] = (
            self._admission.lease(version, resolved) if self._admission else nullcontext()
        )
        if self._remote is not None:
            async with lease:
                return await self._remote.run(version, req)
        async with lease, self._environments.lease(version) as (env, _created):
            return await env.run(req)

    # -- the async path: typed outcomes ------------------------------------------------------
    async def locate(
        self, account_id: str, function: str, qualifier: str | None
    ) -> Resolved | NotFound:
        try:
            return await self.resolve(account_id, function, qualifier)
        except ResourceNotFound as exc:
            return NotFound(exc.message)

    async def attempt(
        self, resolved: Resolved, req: InvocationRequest, lease: Lease | None = None
    ) -> InvokeOutcome:
        """One try at running `req`. With `lease` the caller already holds the function's
        admission lease (and keeps owning it); without, one is taken here or the outcome
        is the throttle."""
        try:
            version = self.route(resolved)
        except ResourceNotFound as exc:
            return NotFound(exc.message)
        if version.state != "Active":
            return NotReady(version.state)
        with contextlib.ExitStack() as held:
            if lease is None and self._admission is not None:
                taken = await self._admission.acquire(version.account_id, version.function_name)
                if isinstance(taken, Throttle):
                    return Throttled(taken)
                held.callback(self._admission.give, taken)
            return await self._run_outcome(version, req)
        raise AssertionError("unreachable")  # pragma: no cover - mypy: ExitStack may swallow

    async def _run_outcome(self, version: FunctionVersion, req: InvocationRequest) -> InvokeOutcome:
        try:
            if self._remote is not None:
                result = await self._remote.run(version, req)
            else:
                async with self._environments.lease(version) as (env, _created):
                    result = await env.run(req)
        except PoolRetired:
            return Superseded()
        except TooManyRequests as exc:  # the scaling limit, checked before a new environment
            return Throttled(Throttle.from_error(exc))
        except InvalidRuntime as exc:
            return Unavailable(exc.message)
        except Exception as exc:
            event(
                log,
                logging.ERROR,
                "invoke.failed",
                "invocation %s could not run",
                req.request_id,
                exc_info=True,
                request_id=req.request_id,
                function=version.qualified_arn,
            )
            return Unavailable(repr(exc))
        return FunctionFailed(result) if result.failed else Succeeded(result)
