"""SnapStart: at PublishVersion the version's template runs init once; forks restore it.

The control plane publishes the version as Pending and tells us; we build the template
(which runs init, then the before-snapshot hooks) and report Active, or Failed with
AWS's reason code, back to the catalog. Invokes of a Pending version are refused by the
invoke path, as on AWS.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from lambent.environments.manager import EnvironmentManager
from lambent.errors import ResourceNotFound
from lambent.functions.model import FunctionVersion

log = logging.getLogger(__name__)


class VersionStates(Protocol):
    async def version(
        self, account_id: str, function_name: str, version: str
    ) -> FunctionVersion: ...

    async def set_version_state(
        self,
        account: str,
        name: str,
        version: str,
        state: str,
        reason: str | None = None,
        reason_code: str | None = None,
    ) -> None: ...


class SnapStartCoordinator:
    def __init__(
        self, manager: EnvironmentManager, catalog: VersionStates, *, snapshot: bool = True
    ) -> None:
        # A frontend runs no environments (snapshot=False): it settles a SnapStart version
        # Active at once, and the worker that first runs it makes its template then.
        self._snapshot_here = snapshot
        self._manager = manager
        self._catalog = catalog
        self._tasks: set[asyncio.Task[None]] = set()

    def function_changed(self, account_id: str, function_name: str, version: str) -> None:
        return None

    def version_published(self, account_id: str, function_name: str, version: str) -> None:
        task = asyncio.get_running_loop().create_task(
            self._snapshot(account_id, function_name, version)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _snapshot(self, account: str, name: str, number: str) -> None:
        try:
            version = await self._catalog.version(account, name, number)
        except ResourceNotFound:
            return
        if not version.snapstart:
            return
        if not self._snapshot_here:
            await self._catalog.set_version_state(account, name, number, "Active")
            return
        try:
            template = await self._manager.template_for(version)
        except Exception as exc:
            log.exception("SnapStart template for %s failed", version.qualified_arn)
            await self._catalog.set_version_state(
                account,
                name,
                number,
                "Failed",
                f"Lambent could not snapshot: {exc}",
                "InternalError",
            )
            return
        report = template.snapstart_report
        if report is None or report.ok:
            await self._catalog.set_version_state(account, name, number, "Active")
            return
        timeout = report.error_type == "Runtime.InitTimeout"
        await self._catalog.set_version_state(
            account,
            name,
            number,
            "Failed",
            f"Function error: {report.error_type}: {report.error_message}",
            "FunctionError.InitTimeout" if timeout else "FunctionError.RuntimeInitError",
        )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
