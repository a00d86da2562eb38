"""IAM users: the principals long-term access keys belong to."""

from __future__ import annotations

from typing import Any

from lambent.auth.credentials import ACCOUNT_KIND, GLOBAL, KEY_KIND
from lambent.clock import Clock
from lambent.errors import IamDeleteConflict, IamEntityAlreadyExists, IamNoSuchEntity
from lambent.iam import kinds, names, paging
from lambent.store.interface import Doc, Store

_LISTED = ("Path", "UserName", "UserId", "Arn", "CreateDate", "PasswordLastUsed")


def not_found(name: str) -> IamNoSuchEntity:
    return IamNoSuchEntity(f"The user with name {name} cannot be found.")


async def user_keys(store: Store, account: str, user_name: str | None) -> list[Doc]:
    """Long-term keys of one user (None: the account root), each with its AccessKeyId."""
    out: list[Doc] = []
    for row in await store.list(KEY_KIND, GLOBAL, parent=account):
        doc = row.doc
        if doc.get("session_token") is not None or doc.get("user_name") != user_name:
            continue
        if user_name is None and doc.get("principal_arn") != names.root_arn(account):
            continue
        out.append({**doc, "AccessKeyId": row.key})
    return out


class Users:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def root(self, account: str) -> Doc:
        """GetUser as the account root: the account's own identity, no UserName."""
        doc = await self._store.get(ACCOUNT_KIND, GLOBAL, account) or {}
        return {
            "UserId": account,
            "Arn": names.root_arn(account),
            "CreateDate": float(int(doc.get("created") or 0)),
        }

    async def find(self, account: str, name: str) -> Doc | None:
        return await kinds.find_named(self._store, kinds.USER, account, name)

    async def get(self, account: str, name: str) -> Doc:
        doc = await self.find(account, name)
        if doc is None:
            raise not_found(name)
        return doc

    async def create(self, account: str, params: dict[str, Any]) -> Doc:
        name = str(params["UserName"])
        path = str(params.get("Path") or "/")
        user: Doc = {
            "Path": path,
            "UserName": name,
            "UserId": names.user_id(),
            "Arn": names.iam_arn(account, "user", path, name),
            "CreateDate": float(int(self._clock.time())),
        }
        if params.get("Tags"):
            user["Tags"] = list(params["Tags"])
        async with self._store.transaction():
            if await self.find(account, name) is not None:
                raise IamEntityAlreadyExists(f"User with name {name} already exists.")
            await self._store.put(kinds.USER, account, name, user)
        return user

    async def update(self, account: str, name: str, changes: dict[str, Any]) -> Doc:
        async with self._store.transaction():
            user = await self.get(account, name)
            for key, value in changes.items():
                if value is None:
                    user.pop(key, None)  # IAM omits members it has no value for
                else:
                    user[key] = value
            await self._store.put(kinds.USER, account, str(user["UserName"]), user)
        return user

    async def list(self, account: str, params: dict[str, Any]) -> dict[str, Any]:
        prefix = str(params.get("PathPrefix") or "/")
        users = [
            row.doc
            for row in await self._store.list(kinds.USER, account)
            if str(row.doc.get("Path", "/")).startswith(prefix)
        ]
        chunk, extra = paging.page(users, lambda u: (str(u["UserName"]),), params)
        return {"Users": [{k: u[k] for k in _LISTED if k in u} for u in chunk], **extra}

    async def delete(self, account: str, name: str) -> None:
        async with self._store.transaction():
            key = str((await self.get(account, name))["UserName"])
            if await user_keys(self._store, account, key):
                raise IamDeleteConflict("Cannot delete entity, must delete access keys first.")
            if await self._store.list(kinds.USER_ATTACHMENT, account, parent=key, limit=1):
                raise IamDeleteConflict("Cannot delete entity, must detach all policies first.")
            if await self._store.list(kinds.USER_POLICY, account, parent=key, limit=1):
                raise IamDeleteConflict("Cannot delete entity, must delete policies first.")
            await self._store.delete(kinds.USER, account, key)
