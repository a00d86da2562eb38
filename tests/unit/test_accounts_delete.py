"""What `lambent accounts delete` refuses and removes (the rules; the CLI and a running
server are in tests/integration/test_accounts.py)."""

from __future__ import annotations

import pytest

from lambent.accounts import delete_account, list_accounts
from lambent.auth.credentials import CredentialStore
from lambent.auth.sealing import Sealer
from lambent.clock import ManualClock
from lambent.errors import ConflictError, NotFoundError
from lambent.event_sources.service import KIND as ESM
from lambent.iam import kinds
from lambent.layers.repository import LAYER
from lambent.s3.buckets import BUCKET
from lambent.store.memory import MemoryStore


@pytest.mark.parametrize(
    ("kind", "noun"),
    [(LAYER, "layer"), (BUCKET, "S3 bucket"), (ESM, "event source mapping")],
)
async def test_an_account_holding_anything_deployed_is_not_deleted(kind: str, noun: str) -> None:
    store = MemoryStore()
    creds = CredentialStore(store, ManualClock(), Sealer.generate())
    account, root = await creds.create_account()
    await store.put(kind, account, "thing", {})
    with pytest.raises(ConflictError, match=f"1 {noun}"):
        await delete_account(store, creds, account)
    assert await creds.lookup(root.access_key) is not None


async def test_delete_removes_identity_and_keys_but_never_the_default() -> None:
    store = MemoryStore()
    creds = CredentialStore(store, ManualClock(), Sealer.generate())
    default, _ = await creds.create_account(default=True)
    account, root = await creds.create_account()
    await store.put(kinds.ROLE, account, "r", {"RoleName": "r"})
    await store.put(kinds.USER, account, "u", {"UserName": "u"})
    with pytest.raises(ConflictError, match="default account"):
        await delete_account(store, creds, default)
    assert await delete_account(store, creds, account) == 1
    assert await creds.lookup(root.access_key) is None
    assert await store.list(kinds.ROLE, account) == []
    assert await store.list(kinds.USER, account) == []
    assert [(s.account_id, s.default) for s in await list_accounts(store, creds)] == [
        (default, True)
    ]
    with pytest.raises(NotFoundError):
        await delete_account(store, creds, account)
