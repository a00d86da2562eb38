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

    def _principal(self, account: str, user_name: str | None) -> tuple[str | None, str, str]:
        """(exact user name, principal ARN, unique id) of the key's owner."""
        if user_name is None:
            return None, names.root_arn(account), account
        user = self._users.get(account, user_name)
        return str(user["UserName"]), str(user["Arn"]), str(user["UserId"])

    def create(self, account: str, user_name: str | None) -> Doc:
        with self._store.transaction():
            name, arn, uid = self._principal(account, user_name)
            if len(user_keys(self._store, account, name)) >= KEYS_PER_USER:
                raise IamLimitExceeded(
                    f"Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}"
                )
            cred = Credential(new_access_key(), new_secret(), account, arn, uid)
            self._credentials.save(cred, user_name=name)
        key: Doc = {
            "AccessKeyId": cred.access_key,
            "SecretAccessKey": cred.secret,
            "Status": cred.status,
            "CreateDate": float(int(self._clock.time())),
        }
        if name is not None:
            key["UserName"] = name
        return key

    def list(self, account: str, user_name: str | None, params: dict[str, Any]) -> dict[str, Any]:
        name, _, _ = self._principal(account, user_name)
        keys = user_keys(self._store, account, name)
        chunk, extra = paging.page(keys, lambda d: str(d["AccessKeyId"]), params)
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

    def _owned(self, account: str, user_name: str | None, key_id: str) -> Doc:
        name, _, _ = self._principal(account, user_name)
        for doc in user_keys(self._store, account, name):
            if doc["AccessKeyId"] == key_id:
                return doc
        raise _missing(key_id)

    def delete(self, account: str, user_name: str | None, key_id: str) -> None:
        with self._store.transaction():
            self._owned(account, user_name, key_id)
            self._credentials.delete(key_id)

    def set_status(self, account: str, user_name: str | None, key_id: str, status: str) -> None:
        with self._store.transaction():
            doc = self._owned(account, user_name, key_id)
            updated = {k: v for k, v in doc.items() if k != "AccessKeyId"}
            updated["status"] = status
            self._store.put(KEY_KIND, GLOBAL, key_id, updated, parent=account)
        self._credentials.forget(key_id)
