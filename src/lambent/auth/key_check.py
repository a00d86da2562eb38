"""A server refuses a master key that is not the one its store's secrets are sealed under.

The first start seals a known value into the store; every later start (any node of a
cluster, any data dir) opens it. A node started without the cluster's key file would
otherwise make a key of its own and fail on every stored secret, one request at a time.
"""

from __future__ import annotations

from pathlib import Path

from lambent.auth.sealing import Sealer, SealError
from lambent.store.interface import Store

KIND = "master-key-check"
KEY = "check"
_CONTEXT = "lambent master key check"
_VALUE = "lambent"


async def verify(store: Store, sealer: Sealer, key_path: Path) -> None:
    """Raise SealError (one line, said at start-up) when `sealer` is not the store's key."""
    doc = await store.get(KIND, "", KEY)
    if doc is None:
        await store.insert(KIND, "", KEY, {"sealed": sealer.seal(_VALUE, _CONTEXT)})
        return
    try:
        sealer.open(str(doc.get("sealed")), _CONTEXT)
    except SealError:
        raise SealError(
            f"the master key does not open this store's secrets: {key_path} is another key "
            "(every node of a cluster needs the same --master-key-file)"
        ) from None
