"""Provisioned concurrency: environments initialized ahead of time, kept warm, served first.

A reconciler compares each provisioned-concurrency config with the environments its
version's pool holds, creates the missing ones (no 10 s init cap: provisioned init may run
as long as the function timeout or 130 s, whichever is more, as on AWS), and moves the
config's Status along its table (`functions/provisioned_states.py`: IN_PROGRESS -> READY or
FAILED) through the catalog. Configs are re-read from the catalog's cache each pass, so a
restart or a change needs no special path, and what is reported is compared with what the
config shows, not with what this process last wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from lambent.clock import Clock
from lambent.errors import ResourceNotFound
from lambent.functions import provisioned_states as pc
from lambent.functions.model import FunctionVersion
from lambent.functions.provisioned_states import ProvisionedEvent, ProvisionedStatus

log = logging.getLogger(__name__)

Doc = dict[str, Any]


class Provisioner(Protocol):
    """What the reconciler needs of the environment manager."""

    def provisioned_count(self, version: FunctionVersion) -> int: ...

    async def provision(self, version: FunctionVersion) -> bool: ...

    def set_provisioned_targets(self, wanted: dict[tuple[str, str, str], int]) -> None: ...


class ProvisionedCatalog(Protocol):
    async def version(
        self, account_id: str, function_name: str, version: str
    ) -> FunctionVersion: ...

    async def provisioned_configs(self) -> list[Doc]: ...

    async def set_provisioned_status(
        self,
        account: str,
        name: str,
        qualifier: str,
        status: str,
        reason: str | None = None,
        *,
        available: int | None = None,
        allocated: int | None = None,
    ) -> None: ...


class ProvisionedReconciler:
    def __init__(
        self,
        manager: Provisioner,
        catalog: ProvisionedCatalog,
        clock: Clock,
        interval_s: float = 0.5,
    ) -> None:
        self._manager = manager
        self._catalog = catalog
        self._clock = clock
        self._interval = interval_s
        self._task: asyncio.Task[None] | None = None
        self._working: set[tuple[str, str, str]] = set()
        # Configs whose init failed, by LastModified: not retried until the config changes.
        self._failed: dict[tuple[str, str, str], str] = {}

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._forever())

    async def _forever(self) -> None:
        while True:
            try:
                await self.reconcile()
            except Exception:
                log.exception("provisioned concurrency reconcile failed")
            await self._clock.sleep(self._interval)

    async def reconcile(self) -> None:
        wanted: dict[tuple[str, str, str], int] = {}
        for doc in await self._catalog.provisioned_configs():
            key = (str(doc["_account"]), str(doc["_function"]), str(doc["_version"]))
            wanted[key] = wanted.get(key, 0) + int(doc["RequestedProvisionedConcurrentExecutions"])
            if self._failed.get(key) == doc.get("LastModified"):
                continue
            if key not in self._working:
                self._working.add(key)
                try:
                    await self._fill(doc, key)
                finally:
                    self._working.discard(key)
        self._manager.set_provisioned_targets(wanted)

    async def _fill(self, doc: Doc, key: tuple[str, str, str]) -> None:
        account, name, number = key
        requested = int(doc["RequestedProvisionedConcurrentExecutions"])
        try:
            version = await self._catalog.version(account, name, number)
        except ResourceNotFound:
            return
        report = _Report(self._catalog, key, doc)
        have = self._manager.provisioned_count(version)
        if have >= requested:
            await report.event(ProvisionedEvent.ALLOCATED, requested)
            return
        await report.event(ProvisionedEvent.ALLOCATING, have)
        results = await asyncio.gather(
            *(self._manager.provision(version) for _ in range(requested - have)),
            return_exceptions=True,
        )
        failures = [r for r in results if r is not True]
        ready = self._manager.provisioned_count(version)
        if failures:
            self._failed[key] = str(doc.get("LastModified"))
            await report.event(ProvisionedEvent.INIT_FAILED, ready, "FUNCTION_ERROR_INIT_FAILURE")
        elif ready >= requested:
            await report.event(ProvisionedEvent.ALLOCATED, ready)
        else:
            await report.event(ProvisionedEvent.ALLOCATING, ready)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class _Report:
    """One config's Status as it is shown, moved by events and written only on a change."""

    def __init__(self, catalog: ProvisionedCatalog, key: tuple[str, str, str], doc: Doc) -> None:
        self._catalog = catalog
        self._key = key
        self._qualifier = str(doc["_qualifier"])
        self.status: ProvisionedStatus = pc.shown(doc)
        self.available = int(doc.get("AvailableProvisionedConcurrentExecutions") or 0)

    async def event(
        self, event: ProvisionedEvent, available: int, reason: str | None = None
    ) -> None:
        status = pc.transition(self.status, event)
        if (status, available) == (self.status, self.available):
            return
        self.status, self.available = status, available
        account, name, _ = self._key
        await self._catalog.set_provisioned_status(
            account,
            name,
            self._qualifier,
            status.value,
            reason,
            available=available,
            allocated=available,
        )
