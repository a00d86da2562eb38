"""The templates this worker keeps: one per function version in use, within a budget.

A template (a fork of the runtime's zygote with the version's code, plus its standby fork)
makes the version's next cold start a fork. Keeping one costs ~4.5 MB and a few kernel
objects, so only recently created or invoked versions keep theirs: a template idle past
`template_keep_alive_s` is closed, and when the templates' memory exceeds
`template_budget_mb` the least recently used are closed first (template_budget.py). A
version whose template was let go gets a new one at its next cold start (~10 ms more);
an invoke never fails for it.

Environments hold a `TemplateHandle`, not a template: each spawn asks the cache for the
version's current template (starting one if needed) and holds it busy while forking, so
eviction never pulls a template from under a spawn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from lambent.clock import Clock
from lambent.environments.template_budget import TemplateBudget
from lambent.errors import ServiceError
from lambent.functions.model import FunctionVersion
from lambent.oplog import event
from lambent.sandbox.interface import (
    EnvironmentSpec,
    Sandbox,
    SandboxedProcess,
    Template,
    TemplateSpec,
)

log = logging.getLogger(__name__)

# What a template is assumed to cost when it cannot be measured (template + standby).
ESTIMATED_COST = 5 * 1024 * 1024


@dataclass
class TemplateStats:
    started: int = 0  # templates started
    awaited_by_spawns: int = 0  # spawns that had to wait for their template to start
    evicted: int = 0  # let go over budget (least recently used first)
    expired: int = 0  # let go after the keep-alive
    failed: int = 0  # failed to start


class TemplateCache:
    def __init__(
        self,
        sandbox: Sandbox,
        clock: Clock,
        spec_for: Callable[[FunctionVersion], TemplateSpec],
        *,
        budget_bytes: int,
        keep_alive_s: float,
    ) -> None:
        self._sandbox = sandbox
        self._clock = clock
        self._spec_for = spec_for
        self._budget = TemplateBudget(budget_bytes, keep_alive_s)
        self._made: dict[str, Template] = {}
        self._versions: dict[str, FunctionVersion] = {}
        self._pending: dict[str, asyncio.Task[Template]] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self.stats = TemplateStats()

    # -- getting one -----------------------------------------------------------------------
    async def get(self, version: FunctionVersion, *, spawning: bool = False) -> Template:
        """The version's template, started if it has none (or its process died)."""
        key = version.key
        made = self._made.get(key)
        if made is not None and made.alive():
            self._budget.touch(key, self._clock.monotonic())
            return made
        if made is not None:  # its process is gone: forget it, start another
            self._forget(key)
        task = self._pending.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._start(version))
            self._pending[key] = task
            task.add_done_callback(lambda _t: self._pending.pop(key, None))
        if spawning:
            self.stats.awaited_by_spawns += 1
        return await asyncio.shield(task)

    @contextlib.asynccontextmanager
    async def lease(self, version: FunctionVersion) -> AsyncIterator[Template]:
        """The template, kept from eviction while the caller forks from it."""
        key = version.key
        for _ in range(10):
            template = await self.get(version, spawning=True)
            # Evicted between its start and our turn (another start's budget check ran
            # first)? Then get it again: a spawn must not fork from a closed template.
            if self._made.get(key) is template:
                break
        self._budget.acquire(key)
        try:
            yield template
        finally:
            self._budget.release(key)

    def handle(self, version: FunctionVersion, template: Template) -> TemplateHandle:
        """For an environment of `version` whose first template is `template`."""
        return TemplateHandle(self, version, template)

    async def _start(self, version: FunctionVersion) -> Template:
        try:
            spec = await asyncio.to_thread(self._spec_for, version)
            template = await self._sandbox.template(spec)
        except Exception as exc:
            self.stats.failed += 1
            expected = isinstance(exc, ServiceError)  # e.g. no interpreter for the runtime
            event(
                log,
                logging.WARNING if expected else logging.ERROR,
                "sandbox.template_failed",
                "the template of %s did not start: %s",
                version.qualified_arn,
                exc,
                exc_info=not expected,
                function=version.qualified_arn,
                runtime=version.runtime,
            )
            raise
        event(
            log,
            logging.DEBUG,
            "sandbox.template_started",
            "template of %s started",
            version.qualified_arn,
            function=version.qualified_arn,
        )
        try:
            cost = await asyncio.to_thread(template.memory_bytes)
        except OSError:
            cost = ESTIMATED_COST
        # No await from here on: the template is kept (and the newest) when this returns.
        key = version.key
        self.stats.started += 1
        self._made[key] = template
        self._versions[key] = version
        self._budget.add(key, self._clock.monotonic(), cost, pinned=version.snapstart)
        self.enforce()
        return template

    # -- letting go ------------------------------------------------------------------------
    def touch(self, version: FunctionVersion) -> None:
        """An invoke used the version: its template is the most recently used."""
        self._budget.touch(version.key, self._clock.monotonic())

    def enforce(self) -> None:
        """Close what the budget and the keep-alive say to let go."""
        for victim in self._budget.victims(self._clock.monotonic()):
            if victim.reason == "idle":
                self.stats.expired += 1
            else:
                self.stats.evicted += 1
            log.debug("template %s let go (%s)", victim.key, victim.reason)
            self.drop(victim.key)

    def drop(self, key: str) -> None:
        """Close the template of `key` (its environments keep running)."""
        template = self._forget(key)
        if template is not None:
            task = asyncio.get_running_loop().create_task(template.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def settle_closes(self, timeout_s: float = 30.0) -> None:
        """Wait (bounded) until the templates being closed are gone. A function's create
        waits for this before turning Active: without it, creating functions faster than
        evicted templates can be torn down piles up closing templates past the budget."""
        if self._closing:
            await asyncio.wait(list(self._closing), timeout=timeout_s)

    def drop_where(self, stale: Callable[[FunctionVersion], bool]) -> None:
        for key, version in list(self._versions.items()):
            if stale(version):
                self.drop(key)

    def _forget(self, key: str) -> Template | None:
        self._budget.remove(key)
        self._versions.pop(key, None)
        return self._made.pop(key, None)

    # -- views -----------------------------------------------------------------------------
    def keys(self) -> list[str]:
        return sorted(self._made)

    def memory_bytes(self) -> int:
        return self._budget.total()

    async def close(self) -> None:
        for task in list(self._pending.values()):
            task.cancel()
        for key in list(self._made):
            self.drop(key)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


class TemplateHandle:
    """What an environment spawns from: the version's current template, whichever it is
    (an environment that re-runs init after a crash may outlive the template it came from)."""

    def __init__(self, cache: TemplateCache, version: FunctionVersion, first: Template) -> None:
        self._cache = cache
        self._version = version
        self.spec = first.spec
        self.snapstart_report = first.snapstart_report

    async def spawn(self, env: EnvironmentSpec) -> SandboxedProcess:
        async with self._cache.lease(self._version) as template:
            return await template.spawn(env)

    def alive(self) -> bool:
        return True

    def memory_bytes(self) -> int:
        return 0

    async def close(self) -> None:
        return None
