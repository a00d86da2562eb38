"""Long-term access keys (AKIA...) for IAM users and the account root.

Keys are saved through `CredentialStore`, the store SigV4 verification reads, so a key
works the moment CreateAccessKey returns and stops working when DeleteAccessKey does.
"""

from __future__ import annotations

from typing import Any

from lambent.auth.credentials import (
    GLOBAL,
    KEY_KIND,
    Credential,
    CredentialStore,
    new_access_key,
    new_secret,
)
from lambent.clock import Clock
from lambent.errors import IamLimitExceeded, IamNoSuchEntity
from lambent.iam import names, paging
from lambent.iam.users import Users, user_keys
from lambent.store.interface import Doc, Store

KEYS_PER_USER = 2


def _missing(key_id: str) -> IamNoSuchEntity:
    return IamNoSuchEntity(f"The Access Key with id {key_id} cannot be found.")


class AccessKeys:
    """`user_name` None means the account root's own keys, as IAM does for root callers."""

    def __init__(
        self, store: Store, credentials: CredentialStore, users: Users, clock: Clock
    ) -> None:
        self._store = store
        self._credentials = credentials
        self._users = users
        self._clock = clock

    async def _principal(self, account: str, user_name: str | None) -> tuple[str | None, str, str]:
        """(exact user name, principal ARN, unique id) of the key's owner."""
        if user_name is None:
            return None, names.root_arn(account), account
        user = await self._users.get(account, user_name)
        return str(user["UserName"]), str(user["Arn"]), str(user["UserId"])

    async def create(self, account: str, user_name: str | None) -> Doc:
        async with self._store.transaction():
            name, arn, uid = await self._principal(account, user_name)
            if len(await user_keys(self._store, account, name)) >= KEYS_PER_USER:
                raise IamLimitExceeded(
                    f"Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}"
                )
            cred = Credential(new_access_key(), new_secret(), account, arn, uid)
            await self._credentials.save(cred, user_name=name)
        key: Doc = {
            "AccessKeyId": cred.access_key,
            "SecretAccessKey": cred.secret,
            "Status": cred.status,
            "CreateDate": float(int(self._clock.time())),
        }
        if name is not None:
            key["UserName"] = name
        return key

    async def list(
        self, account: str, user_name: str | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, _, _ = await self._principal(account, user_name)
        keys = await user_keys(self._store, account, name)
        chunk, extra = paging.page(keys, lambda d: (str(d["AccessKeyId"]),), params)
        listed = []
        for doc in chunk:
            item: Doc = {
                "AccessKeyId": doc["AccessKeyId"],
                "Status": doc.get("status", "Active"),
                "CreateDate": float(int(doc.get("created") or 0)),
            }
            if name is not None:
                item["UserName"] = name
            listed.append(item)
        return {"AccessKeyMetadata": listed, **extra}

    async def _owned(self, account: str, user_name: str | None, key_id: str) -> Doc:
        name, _, _ = await self._principal(account, user_name)
        for doc in await user_keys(self._store, account, name):
            if doc["AccessKeyId"] == key_id:
                return doc
        raise _missing(key_id)

    async def delete(self, account: str, user_name: str | None, key_id: str) -> None:
        async with self._store.transaction():
            await self._owned(account, user_name, key_id)
            await self._credentials.delete(key_id)

    async def set_status(
        self, account: str, user_name: str | None, key_id: str, status: str
    ) -> None:
        async with self._store.transaction():
            doc = await self._owned(account, user_name, key_id)
            updated = {k: v for k, v in doc.items() if k != "AccessKeyId"}
            updated["status"] = status
            await self._store.put(KEY_KIND, GLOBAL, key_id, updated, parent=account)
        self._credentials.forget(key_id)
