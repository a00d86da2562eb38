"""Which node polls a mapping: a lease row per mapping in the store.

In a cluster every node runs a supervisor over the same mappings; a mapping's poller runs
only on the node holding its lease, so its batches come from one place. A lease is a
document (kind `lambda_esm_lease`, key the mapping's UUID) with its holder and expiry,
taken or renewed in one store transaction (the store serializes read-modify-write: an
in-process lock on SQLite, a transaction-scoped advisory lock on PostgreSQL), so two nodes
never both hold it. A holder renews every supervisor pass; a node that dies stops
renewing and another takes the mapping over once the lease lapses (`ttl_s`). The holder
that stops a poller releases the lease at once.

Delivery stays at least once across a takeover: records the dead node had received come
back from the source by its own timeout (SQS: the visibility timeout).
"""

from __future__ import annotations

from lambent.clock import Clock
from lambent.store.interface import Store

KIND = "lambda_esm_lease"
ACCOUNT = "-"  # leases are the cluster's, not an account's


class MappingLeases:
    def __init__(self, store: Store, node_id: str, clock: Clock, ttl_s: float = 15.0) -> None:
        self._store = store
        self.node_id = node_id
        self._clock = clock
        self.ttl_s = ttl_s

    async def hold(self, mapping_id: str) -> bool:
        """Take or renew this node's lease; False while another node's is live."""
        now = self._clock.time()
        async with self._store.transaction():
            doc = await self._store.get(KIND, ACCOUNT, mapping_id)
            if doc is not None and doc["node"] != self.node_id and doc["expires"] > now:
                return False
            lease = {"node": self.node_id, "expires": now + self.ttl_s}
            await self._store.put(KIND, ACCOUNT, mapping_id, lease)
        return True

    async def release(self, mapping_id: str) -> None:
        async with self._store.transaction():
            doc = await self._store.get(KIND, ACCOUNT, mapping_id)
            if doc is not None and doc["node"] == self.node_id:
                await self._store.delete(KIND, ACCOUNT, mapping_id)

    async def holder(self, mapping_id: str) -> str | None:
        doc = await self._store.get(KIND, ACCOUNT, mapping_id)
        if doc is None or doc["expires"] <= self._clock.time():
            return None
        return str(doc["node"])
