"""Runs the pollers this node should run, from the stored mappings and their States.

Each pass (every `interval_s`, or at once when `wake()` is called after a mapping write):

- a mapping that is enabled (Creating, Enabling, Enabled or Updating with Enabled=true)
  and whose kind has a factory gets a poller here if this node holds its lease
  (leases.py); a changed mapping (LastModified) restarts its poller with the new settings;
- a disabled or deleted mapping, or one whose lease another node holds, has its poller
  stopped (in-flight batches settle first) and its lease released;
- a transient State left in the store (Creating, Enabling, Updating, Disabling) settles
  (Enabled or Disabled, states.py) once the poller runs or has stopped;
- each running poller's backlog is read for the metrics.

A factory that cannot build its source (the queue was deleted) is retried next pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from lambent.clock import Clock
from lambent.event_sources import states
from lambent.event_sources.pollers.invoking import BatchInvoker
from lambent.event_sources.pollers.leases import MappingLeases
from lambent.event_sources.pollers.mapping import MappingPoller
from lambent.event_sources.pollers.source import SourceFactory, SourceUnavailable
from lambent.event_sources.pollers.spec import fingerprint, poller_spec
from lambent.event_sources.sources import SourceKind
from lambent.event_sources.states import MappingState
from lambent.store.interface import Doc, Store

log = logging.getLogger(__name__)
KIND = "lambda_esm"
_RUNS = {MappingState.CREATING, MappingState.ENABLING, MappingState.ENABLED, MappingState.UPDATING}


@dataclass
class _Running:
    poller: MappingPoller
    fingerprint: tuple[Any, ...]
    account: str
    doc: Doc


class PollerSupervisor:
    def __init__(
        self,
        store: Store,
        factories: dict[SourceKind, SourceFactory],
        invoke: BatchInvoker,
        leases: MappingLeases,
        clock: Clock,
        interval_s: float = 1.0,
    ) -> None:
        self._store = store
        self._factories = factories
        self._invoke = invoke
        self._leases = leases
        self._clock = clock
        self._interval_s = interval_s
        self._running: dict[str, _Running] = {}
        self._unavailable: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._pass_lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="esm-supervisor")

    def wake(self) -> None:
        """A mapping changed here: reconcile now rather than at the next tick."""
        self._wake.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        async with self._pass_lock:
            for mapping_id in list(self._running):
                await self._stop(mapping_id)

    async def _loop(self) -> None:
        while True:
            try:
                await self.reconcile()
            except Exception:
                log.exception("event source mapping pass failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval_s)

    # -- one pass ----------------------------------------------------------------------------
    async def reconcile(self) -> None:
        async with self._pass_lock:
            seen: set[str] = set()
            for account, row in await self._store.scan(KIND):
                seen.add(row.key)
                await self._one(account, row.doc)
            for mapping_id in [m for m in self._running if m not in seen]:
                await self._stop(mapping_id)

    async def _one(self, account: str, doc: Doc) -> None:
        mapping_id = str(doc["UUID"])
        state = MappingState(doc["State"])
        kind = SourceKind(doc["_kind"])
        wanted = state in _RUNS and bool(doc.get("_enabled", True))
        factory = self._factories.get(kind)
        if not wanted or factory is None or not await self._leases.hold(mapping_id):
            if mapping_id in self._running:
                await self._stop(mapping_id)
            if state is MappingState.DISABLING or (factory is not None and not wanted):
                await self._settle(account, mapping_id, running=False)
            return
        current = self._running.get(mapping_id)
        if current is not None and current.fingerprint != fingerprint(doc):
            await self._stop(mapping_id, release=False)
            current = None
        if current is None:
            try:
                source = await factory(doc)
            except SourceUnavailable as exc:
                if mapping_id not in self._unavailable:  # once, not every pass
                    log.warning("mapping %s: source unavailable: %s", mapping_id, exc)
                    self._unavailable.add(mapping_id)
                await self._leases.release(mapping_id)
                return
            self._unavailable.discard(mapping_id)
            poller = MappingPoller(
                source, poller_spec(account, doc, source), self._invoke, self._clock
            )
            poller.start()
            self._running[mapping_id] = _Running(poller, fingerprint(doc), account, doc)
            await self._settle(account, mapping_id, running=True)
        else:
            await self._refresh_backlog(current.poller)

    async def _refresh_backlog(self, poller: MappingPoller) -> None:
        try:
            backlog = await poller.source.backlog()
        except Exception:
            return
        poller.metrics.backlog = backlog.waiting
        poller.metrics.oldest_age_s = backlog.oldest_age_s

    async def _stop(self, mapping_id: str, *, release: bool = True) -> None:
        running = self._running.pop(mapping_id, None)
        if running is not None:
            await running.poller.stop()
        if release:
            await self._leases.release(mapping_id)

    async def _settle(self, account: str, mapping_id: str, *, running: bool) -> None:
        """A transient State the store still shows ends now that the poller did its part."""
        async with self._store.transaction():
            doc = await self._store.get(KIND, account, mapping_id)
            if doc is None:
                return
            state = MappingState(doc["State"])
            if state in (MappingState.ENABLED, MappingState.DISABLED, MappingState.DELETING):
                return
            event = states.MappingEvent.POLLING if running else states.MappingEvent.STOPPED
            if event not in states.allowed(state):
                return
            doc["State"] = states.transition(state, event).value
            await self._store.put(KIND, account, mapping_id, doc, parent=doc["_function"])

    # -- what operators see ----------------------------------------------------------------
    def poller(self, mapping_id: str) -> MappingPoller | None:
        running = self._running.get(mapping_id)
        return None if running is None else running.poller

    def snapshot(self) -> dict[str, Any]:
        return {
            mapping_id: {
                "function": r.doc.get("FunctionArn"),
                "source": r.doc.get("EventSourceArn"),
                "node": self._leases.node_id,
                **r.poller.metrics.view(),
            }
            for mapping_id, r in self._running.items()
        }
