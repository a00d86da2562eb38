"""The workers as a frontend sees them.

`WorkerFleet` (frontend) reads the live workers from membership (cluster/membership.py)
every heartbeat and places each invocation over them with the pure policy
(cluster/placement.py). Between two reads it counts its own placements into its copy of
the views (a warm placement uses up one idle environment of the version, a cold one the
version's memory), so a burst between heartbeats spreads instead of piling on the worker
that looked best at the last read. A worker that refused a connection or died
mid-invocation is avoided for `avoid_s` (two leases: by then membership has dropped a dead
one, and a restarted one is back).

A worker's load (busy environments, their memory, idle ones per version key) rides on
its heartbeats (membership asks its environment manager).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Protocol

from lambent.clock import Clock
from lambent.cluster.placement import WorkerView, place
from lambent.cluster.remote import Ticket
from lambent.functions.model import FunctionVersion
from lambent.settings import NodeRole

if TYPE_CHECKING:  # membership needs psycopg: imported in cluster mode only
    from lambent.cluster.membership import NodeInfo

log = logging.getLogger(__name__)


class Members(Protocol):
    """What the fleet needs of membership."""

    async def live_nodes(self, role: NodeRole | None = None) -> list[NodeInfo]: ...


class WorkerFleet:
    def __init__(self, members: Members, clock: Clock, refresh_s: float, avoid_s: float) -> None:
        self._members = members
        self._clock = clock
        self._refresh_s = refresh_s
        self._avoid_s = avoid_s
        self._views: dict[str, WorkerView] = {}
        self._address: dict[str, str] = {}
        self._avoid: dict[str, float] = {}  # address -> monotonic time it is tried again
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.get_running_loop().create_task(self._refresh_forever())

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def refresh(self) -> None:
        # Only dedicated workers serve the internal endpoint (an `all` node does not).
        nodes = [n for n in await self._members.live_nodes("worker") if n.role == "worker"]
        self._views = {n.node_id: n.worker_view() for n in nodes}
        self._address = {n.node_id: n.address for n in nodes}

    async def _refresh_forever(self) -> None:
        while True:
            await self._clock.sleep(self._refresh_s)
            try:
                await self.refresh()
            except Exception as exc:  # keep placing on the last view; membership retries
                log.warning("cluster: cannot read the live workers: %s", exc)

    def addresses(self) -> list[str]:
        return sorted(self._address.values())

    def choose(self, version: FunctionVersion, exclude: Collection[str]) -> Ticket | None:
        now = self._clock.monotonic()
        candidates = [
            view
            for worker_id, view in self._views.items()
            if (address := self._address[worker_id]) not in exclude
            and self._avoid.get(address, 0.0) <= now
        ]
        placed = place(version.key, version.memory_mb, candidates)
        if placed is None:
            return None
        worker_id, key, memory = placed.worker_id, version.key, version.memory_mb
        self._adjust(worker_id, key, memory, started=True, warm=placed.warm)

        def release() -> None:
            self._adjust(worker_id, key, memory, started=False, warm=placed.warm)

        return Ticket(self._address[worker_id], release)

    def _adjust(self, worker_id: str, key: str, memory: int, *, started: bool, warm: bool) -> None:
        """This frontend's own placement into its copy of a worker's view: a started
        invocation takes an idle environment (warm) or memory for a new one (cold); an
        ended one leaves an idle environment of the version behind either way."""
        view = self._views.get(worker_id)
        if view is None:  # gone from the live workers since
            return
        idle = dict(view.idle_by_version)
        used, idle_mb, busy = view.memory_used_mb, view.memory_idle_mb, view.busy
        if started:
            busy += 1
            if warm:
                idle[key] = max(0, idle.get(key, 0) - 1)
                idle_mb = max(0, idle_mb - memory)
            else:
                used += memory
        else:
            busy = max(0, busy - 1)
            idle[key] = idle.get(key, 0) + 1
            idle_mb = min(used, idle_mb + memory)
        self._views[worker_id] = dataclasses.replace(
            view, idle_by_version=idle, memory_used_mb=used, memory_idle_mb=idle_mb, busy=busy
        )

    def failed(self, address: str) -> None:
        self._avoid[address] = self._clock.monotonic() + self._avoid_s
