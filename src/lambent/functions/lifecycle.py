"""Pending -> Active for real: a function is Active once its code is extracted.

Why not Active at once: Lambda documents every create as Pending until its resources are
ready, and every code or configuration update as LastUpdateStatus InProgress until it is
applied (functions-states in the Lambda developer guide); boto3's `function_active_v2` and
`function_updated_v2` waiters poll for exactly that. Lambent's "resources" are the read-only
extractions of the function and layer zips, so the create answers Pending, a worker thread
extracts the code, and the state flips to Active (or Failed, with InvalidZipFileException,
if the zip cannot be unpacked). Extraction takes milliseconds for ordinary functions, so a
control-plane write arriving during it waits for it (bounded) instead of failing the way AWS
does, which keeps scripts that do not use waiters working.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lambent.functions import states
from lambent.functions.model import LATEST
from lambent.functions.states import Event
from lambent.store.interface import Doc

if TYPE_CHECKING:
    from lambent.functions.catalog import StoreCatalog

log = logging.getLogger(__name__)

SETTLE_WAIT_S = 30.0
# Extracts one blob off the event loop (BlobStore.extracted on the App's blocking pool).
Extract = Callable[[str], Awaitable[Any]]


class Provisioner:
    """Extracts code off the loop and settles the function's state afterwards."""

    def __init__(self, catalog: StoreCatalog, extract: Extract) -> None:
        self._catalog = catalog
        self._extract = extract
        self._pending: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, account: str, name: str, shas: list[str]) -> None:
        task = asyncio.get_running_loop().create_task(self._run(account, name, shas))
        self._pending[(account, name)] = task
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._forget(account, name, t))

    def _forget(self, account: str, name: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._pending.get((account, name)) is task:
            del self._pending[(account, name)]

    def pending(self, account: str, name: str) -> asyncio.Future[None] | None:
        return self._pending.get((account, name))

    async def wait(self, account: str, name: str, timeout: float = SETTLE_WAIT_S) -> None:
        task = self.pending(account, name)
        if task is not None:
            await asyncio.wait([task], timeout=timeout)

    async def _run(self, account: str, name: str, shas: list[str]) -> None:
        reason: tuple[str, str] | None = None
        try:
            for sha in shas:
                await self._extract(sha)
        except Exception as exc:
            log.warning("extracting code of %s/%s failed: %s", account, name, exc)
            reason = (
                f"Lambda was unable to unzip the deployment package: {type(exc).__name__}: {exc}",
                "InvalidZipFileException",
            )
        await settle(self._catalog, account, name, reason)

    async def recover(self, shas_of: Callable[[Doc], list[str]]) -> int:
        """After a restart: settle every function a previous process left unsettled."""
        count = 0
        for account, row in await self._catalog.repo.all_functions():
            status = states.from_config(row.doc["latest"]["config"])
            if status.state == "Pending" or status.update == "InProgress":
                self.start(account, row.key, shas_of(row.doc["latest"]))
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
    try:
        status = states.transition(states.from_config(cfg), event)
    except states.InvalidTransition:
        return False
    states.apply(cfg, status, failure)
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
        failure = (reason or "", reason_code or "InternalError") if state == "Failed" else None
        states.apply(cfg, status, failure)
        if version == LATEST:
            fn["latest"] = doc
            await repo.put_function(account, name, fn)
        else:
            await repo.put_version(account, name, version, doc)
    await catalog.changed(account, name, version)
