"""Pending -> Active for real: a function is Active once an invoke would find it ready.

Why not Active at once: Lambda documents every create as Pending until its resources are
ready, and every code or configuration update as LastUpdateStatus InProgress until it is
applied (functions-states in the Lambda developer guide); boto3's `function_active_v2` and
`function_updated_v2` waiters poll for exactly that. Lambent's "resources" are the read-only
extractions of the function and layer zips, and the version's template (the data plane's
`prepare`): the create answers Pending, the code is extracted off the loop, the data plane
starts the template, and the state flips to Active (or Failed, with InvalidZipFileException,
if the zip cannot be unpacked). So the first invoke after the waiter pays a fork, not a
template start. Every change of state gives the version a new RevisionId, as on AWS.

The update window is AWS's: while an update is InProgress, another update or a publish is
refused with ResourceConflictException (`states.check_mutable`), however short the window
is here. The create window is softer: a control-plane write that arrives while a created
function is still Pending waits for its extraction (bounded) and then settles the function
at once, without waiting for its template (the invoke will start it), instead of failing as
AWS does: scripts that create and then configure without a waiter keep working.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lambent.errors import ResourceNotFound
from lambent.functions import states
from lambent.functions.model import LATEST, FunctionVersion
from lambent.functions.states import Event
from lambent.store.interface import Doc

if TYPE_CHECKING:
    from lambent.functions.catalog import StoreCatalog

log = logging.getLogger(__name__)

SETTLE_WAIT_S = 30.0
# Extracts one blob off the event loop (BlobStore.extracted on the App's blocking pool).
Extract = Callable[[str], Awaitable[Any]]
# The data plane's preparation of a function's $LATEST (its template).
Prepare = Callable[[FunctionVersion], Awaitable[None]]


class _Job:
    """One provisioning of a function: extract its code, prepare it, settle its state."""

    def __init__(self, account: str, name: str, creating: bool) -> None:
        self.account = account
        self.name = name
        self.creating = creating  # a create (Pending); else an update (InProgress)
        self.extracted = asyncio.Event()
        self.settled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.settling: asyncio.Task[None] | None = None
        self.failure: tuple[str, str] | None = None


class Provisioner:
    """Extracts code off the loop, has the data plane prepare the function, and settles
    the function's state afterwards."""

    def __init__(
        self, catalog: StoreCatalog, extract: Extract, prepare: Prepare | None = None
    ) -> None:
        self._catalog = catalog
        self._extract = extract
        self._prepare = prepare
        self._jobs: dict[tuple[str, str], _Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, account: str, name: str, shas: list[str], *, creating: bool = False) -> None:
        job = _Job(account, name, creating)
        self._jobs[(account, name)] = job
        task = asyncio.get_running_loop().create_task(self._run(job, shas))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def pending(self, account: str, name: str) -> asyncio.Future[None] | None:
        """The settling of a Pending/InProgress function (None once settled)."""
        job = self._jobs.get((account, name))
        return None if job is None else job.settled

    async def wait(self, account: str, name: str, timeout: float = SETTLE_WAIT_S) -> None:
        """For a control-plane write on a function still being created: wait for the code
        (bounded), then settle now, without waiting for the template. An update's window is
        left alone: the write meets AWS's conflict instead."""
        job = self._jobs.get((account, name))
        if job is None or not job.creating:
            return
        try:
            await asyncio.wait_for(job.extracted.wait(), timeout)
        except TimeoutError:
            return
        await self._settle(job)

    async def _run(self, job: _Job, shas: list[str]) -> None:
        try:
            for sha in shas:
                await self._extract(sha)
        except Exception as exc:
            log.warning("extracting code of %s/%s failed: %s", job.account, job.name, exc)
            job.failure = (
                f"Lambda was unable to unzip the deployment package: {type(exc).__name__}: {exc}",
                "InvalidZipFileException",
            )
        job.extracted.set()
        if job.failure is None and self._prepare is not None and not job.settled.done():
            try:
                version = await self._catalog.version(job.account, job.name, LATEST)
            except ResourceNotFound:  # deleted meanwhile
                pass
            else:
                await self._prepare(version)
        await self._settle(job)

    async def _settle(self, job: _Job) -> None:
        """Once per job, whoever asks first; a job superseded by a newer one settles
        nothing (the newer one will)."""
        if job.settling is None:
            job.settling = asyncio.get_running_loop().create_task(self._settle_once(job))
        await asyncio.shield(job.settling)

    async def _settle_once(self, job: _Job) -> None:
        key = (job.account, job.name)
        try:
            if self._jobs.get(key) is job:
                await settle(self._catalog, job.account, job.name, job.failure)
        finally:
            if not job.settled.done():
                job.settled.set_result(None)
            if self._jobs.get(key) is job:
                del self._jobs[key]

    async def recover(self, shas_of: Callable[[Doc], list[str]]) -> int:
        """After a restart: settle every function a previous process left unsettled."""
        count = 0
        for account, row in await self._catalog.repo.all_functions():
            status = states.from_config(row.doc["latest"]["config"])
            if status.state == "Pending" or status.update == "InProgress":
                creating = status.state == "Pending"
                self.start(account, row.key, shas_of(row.doc["latest"]), creating=creating)
                count += 1
        return count

    async def close(self) -> None:
        """Let extractions in flight finish and settle (they are short), then stop."""
        tasks = list(self._tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=SETTLE_WAIT_S)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def settle(
    catalog: StoreCatalog, account: str, name: str, failure: tuple[str, str] | None
) -> None:
    event = Event.PROVISION_FAILED if failure else Event.PROVISIONED
    repo = catalog.repo
    async with repo.transaction():
        fn = await repo.function(account, name)
        if fn is None:
            return
        _advance(fn["latest"]["config"], event, failure)
        await repo.put_function(account, name, fn)
        for doc in await repo.versions(account, name):
            cfg = doc["config"]
            if states.from_config(cfg).state == "Pending" and _advance(cfg, event, failure):
                await repo.put_version(account, name, str(cfg["Version"]), doc)
    await catalog.changed(account, name, LATEST)


def _advance(cfg: dict[str, Any], event: Event, failure: tuple[str, str] | None) -> bool:
    """Apply `event`; True when the version's status changed (and so did its RevisionId)."""
    current = states.from_config(cfg)
    try:
        status = states.transition(current, event)
    except states.InvalidTransition:
        return False
    if status is current:
        return False
    states.enter(cfg, status, failure)
    return True


async def report_state(
    catalog: StoreCatalog,
    account: str,
    name: str,
    version: str,
    state: str,
    reason: str | None,
    reason_code: str | None,
) -> None:
    """The data plane's report on a version: Active when ready, Failed with a reason."""
    repo = catalog.repo
    async with repo.transaction():
        fn = await repo.function(account, name)
        doc = await repo.version(account, name, version) if fn is not None else None
        if fn is None or doc is None:
            return
        cfg = doc["config"]
        current = states.from_config(cfg)
        if state == "Active":
            event = Event.SNAPSHOT_READY if current.snapstart else Event.PROVISIONED
        elif state == "Failed":
            event = Event.SNAPSHOT_FAILED if current.snapstart else Event.PROVISION_FAILED
        else:
            raise ValueError(f"a version can be reported Active or Failed, not {state}")
        status = states.transition(current, event)
        if status is current:
            return
        failure = (reason or "", reason_code or "InternalError") if state == "Failed" else None
        states.enter(cfg, status, failure)
        if version == LATEST:
            fn["latest"] = doc
            await repo.put_function(account, name, fn)
        else:
            await repo.put_version(account, name, version, doc)
    await catalog.changed(account, name, version)
