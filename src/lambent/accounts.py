"""Listing and deleting accounts (the operator's `lambent accounts list|delete`).

Deleting an account never deletes code or data a tenant put there: it is refused while
the account holds functions, layers, S3 buckets, event source mappings or code signing
configs, which its owner deletes first (with their own keys, through the API, where every
rule of those services applies). What is left then is the account's identity: its IAM
users, roles and policies, the signing profiles registered for it, and every access key of
the account (root, users', sessions'), which stop working at once in this process and
within `CredentialStore.CACHE_S` in a server running next to it. The account the server
made on its first start (whose keys are in DATA/credentials) is never deleted: the server
would make a new one at its next start.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambent.auth.credentials import ACCOUNT_KIND, GLOBAL, KEY_KIND, CredentialStore
from lambent.code_signing.configs import KIND as CSC_KIND
from lambent.code_signing.profiles import KIND as SIGNER_PROFILE_KIND
from lambent.errors import ConflictError, NotFoundError
from lambent.event_sources.service import KIND as ESM_KIND
from lambent.functions.repository import FUNCTION
from lambent.iam import kinds
from lambent.layers.repository import LAYER
from lambent.s3.buckets import BUCKET
from lambent.store.interface import Store

HOLDINGS = (
    (FUNCTION, "function"),
    (LAYER, "layer"),
    (BUCKET, "S3 bucket"),
    (ESM_KIND, "event source mapping"),
    (CSC_KIND, "code signing config"),
)
IDENTITY_KINDS = (
    kinds.ROLE,
    kinds.ROLE_ATTACHMENT,
    kinds.ROLE_POLICY,
    kinds.POLICY,
    kinds.USER,
    kinds.USER_ATTACHMENT,
    kinds.USER_POLICY,
    SIGNER_PROFILE_KIND,  # the public keys the operator registered for the account
)


@dataclass(frozen=True)
class AccountSummary:
    account_id: str
    default: bool
    functions: int


async def list_accounts(store: Store, credentials: CredentialStore) -> list[AccountSummary]:
    default = await credentials.default_account()
    return [
        AccountSummary(account, account == default, len(await store.list(FUNCTION, account)))
        for account in await credentials.accounts()
    ]


async def delete_account(store: Store, credentials: CredentialStore, account: str) -> int:
    """Delete an account that holds nothing but its identity; how many keys went."""
    async with store.transaction():
        if await store.get(ACCOUNT_KIND, GLOBAL, account) is None:
            raise NotFoundError(f"account {account} does not exist")
        if account == await credentials.default_account():
            raise ConflictError(
                f"account {account} is the server's default account (its root keys are in "
                "DATA/credentials); it cannot be deleted"
            )
        held = [
            f"{count} {noun}(s)"
            for kind, noun in HOLDINGS
            if (count := len(await store.list(kind, account, limit=1000)))
        ]
        if held:
            raise ConflictError(
                f"account {account} still holds {', '.join(held)}; delete them first"
            )
        for kind in IDENTITY_KINDS:
            for row in await store.list(kind, account):
                await store.delete(kind, account, row.key)
        keys = [row.key for row in await store.list(KEY_KIND, GLOBAL, parent=account)]
        for key in keys:
            await credentials.delete(key)
        await store.delete(ACCOUNT_KIND, GLOBAL, account)
    return len(keys)
