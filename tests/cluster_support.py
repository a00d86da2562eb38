"""Nodes of a cluster in one test process: membership (and change feeds) on one schema."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable

from lambent.cluster.membership import Capacity, Membership, NodeSpec, Pool
from lambent.pg.connect import open_pool
from lambent.settings import ClusterSettings, NodeRole

# Bound on waits for events (never a timing threshold: generous, only against hangs).
HANG_S = 30.0
# Short leases, so a lapse is awaited in about a second.
LEASE_S = 1.0
BEATING = ClusterSettings(heartbeat_s=0.1, lease_s=LEASE_S)
SILENT = ClusterSettings(heartbeat_s=3600.0, lease_s=LEASE_S)  # never renews by itself


async def until(check: Callable[[], object], bound_s: float = HANG_S) -> None:
    """Wait until `check()` (a bool, or an awaitable of one) holds, re-checked every 20 ms;
    fail after `bound_s`."""

    async def wait() -> None:
        while True:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), bound_s)


async def pool_for(url: str, name: str) -> Pool:
    return await open_pool(url, name=name, min_size=1, max_size=3)


def spec(node_id: str, role: NodeRole = "all", memory_mb: int = 4096) -> NodeSpec:
    return NodeSpec(node_id, role, f"127.0.0.1:{9700 + len(node_id)}", Capacity(memory_mb, 2))


async def live_ids(member: Membership, role: NodeRole | None = None) -> list[str]:
    return [n.node_id for n in await member.live_nodes(role)]


class RecordingCatalog:
    """A catalog's side of the change feed that records what it is told; `gate` (unset)
    holds every remote change until it is set."""

    def __init__(self) -> None:
        self.applied: list[tuple[str, str, str | None, bool]] = []
        self.resets = 0
        self.gate: asyncio.Event | None = None

    async def apply_remote(
        self, account: str, name: str, version: str | None, *, published: bool
    ) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.applied.append((account, name, version, published))

    async def invalidate_all(self) -> None:
        self.resets += 1


class Node:
    """One node of a cluster: its pool, change feed and membership, as App wires them."""

    def __init__(self, url: str, node_id: str, settings: ClusterSettings) -> None:
        self.url, self.node_id, self.settings = url, node_id, settings
        self.catalog = RecordingCatalog()

    async def start(self) -> Node:
        from lambent.cluster.changes import ChangeFeed

        self.pool = await pool_for(self.url, self.node_id)
        self.feed = ChangeFeed(self.url, self.pool, self.catalog, self.settings, self.node_id)
        await self.feed.start()
        self.member = Membership(
            self.pool,
            spec(self.node_id),
            self.settings,
            on_join=self.feed.on_join,
            healthy=self.feed.connected,
        )
        await self.member.start()
        return self

    async def close(self) -> None:
        await self.member.stop()
        await self.feed.stop()
        await self.pool.close()

    async def applied_seq(self) -> int:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT applied_seq FROM cluster_nodes WHERE node_id = %s", (self.node_id,)
            )
            row = await cur.fetchone()
        return int(row[0]) if row else -1
