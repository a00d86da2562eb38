"""IAM roles: create, read, list, update, delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from lambent.clock import Clock
from lambent.errors import IamDeleteConflict, IamEntityAlreadyExists, IamNoSuchEntity
from lambent.iam import documents, kinds, names, paging
from lambent.store.interface import Doc, Store

DEFAULT_MAX_SESSION_S = 3600
_LISTED = (
    "Path",
    "RoleName",
    "RoleId",
    "Arn",
    "CreateDate",
    "AssumeRolePolicyDocument",
    "Description",
    "MaxSessionDuration",
)


def not_found(name: str) -> IamNoSuchEntity:
    return IamNoSuchEntity(f"The role with name {name} cannot be found.")


def trust_policy_text(role: Doc) -> str:
    return unquote(str(role.get("AssumeRolePolicyDocument", "")))


class Roles:
    """`lenient_trust` accepts trust policies that are not JSON (open mode, see documents)."""

    def __init__(self, store: Store, clock: Clock, *, lenient_trust: bool = False) -> None:
        self._store = store
        self._clock = clock
        self._lenient = lenient_trust

    async def find(self, account: str, name: str) -> Doc | None:
        return await kinds.find_named(self._store, kinds.ROLE, account, name)

    async def get(self, account: str, name: str) -> Doc:
        doc = await self.find(account, name)
        if doc is None:
            raise not_found(name)
        return doc

    async def create(self, account: str, params: dict[str, Any]) -> Doc:
        name = str(params["RoleName"])
        document = str(params["AssumeRolePolicyDocument"])
        stored = documents.check_trust_policy(document, lenient=self._lenient)
        path = str(params.get("Path") or "/")
        role: Doc = {
            "Path": path,
            "RoleName": name,
            "RoleId": names.role_id(),
            "Arn": names.iam_arn(account, "role", path, name),
            "CreateDate": float(int(self._clock.time())),
            "AssumeRolePolicyDocument": stored,
            "MaxSessionDuration": int(params.get("MaxSessionDuration") or DEFAULT_MAX_SESSION_S),
        }
        if params.get("Description") is not None:
            role["Description"] = params["Description"]
        if params.get("Tags"):
            role["Tags"] = list(params["Tags"])
        if params.get("PermissionsBoundary"):
            boundary = str(params["PermissionsBoundary"])
            role["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": boundary,
            }
        async with self._store.transaction():
            if await self.find(account, name) is not None:
                raise IamEntityAlreadyExists(f"Role with name {name} already exists.")
            await self._store.put(kinds.ROLE, account, name, role)
        return role

    async def list(self, account: str, params: dict[str, Any]) -> dict[str, Any]:
        prefix = str(params.get("PathPrefix") or "/")
        roles = [
            row.doc
            for row in await self._store.list(kinds.ROLE, account)
            if str(row.doc.get("Path", "/")).startswith(prefix)
        ]
        chunk, extra = paging.page(roles, lambda r: (str(r["RoleName"]),), params)
        listed = [{k: r[k] for k in _LISTED if k in r} for r in chunk]
        return {"Roles": listed, **extra}

    async def update(self, account: str, name: str, changes: dict[str, Any]) -> Doc:
        async with self._store.transaction():
            role = await self.get(account, name)
            for key, value in changes.items():
                if value is None:
                    role.pop(key, None)  # IAM omits members it has no value for
                else:
                    role[key] = value
            await self._store.put(kinds.ROLE, account, str(role["RoleName"]), role)
        return role

    async def update_trust_policy(self, account: str, name: str, document: str) -> Doc:
        stored = documents.check_trust_policy(document, lenient=self._lenient)
        return await self.update(account, name, {"AssumeRolePolicyDocument": stored})

    async def delete(self, account: str, name: str) -> None:
        async with self._store.transaction():
            role = await self.get(account, name)
            key = str(role["RoleName"])
            if await self._store.list(kinds.ROLE_ATTACHMENT, account, parent=key, limit=1):
                raise IamDeleteConflict("Cannot delete entity, must detach all policies first.")
            if await self._store.list(kinds.ROLE_POLICY, account, parent=key, limit=1):
                raise IamDeleteConflict("Cannot delete entity, must delete policies first.")
            await self._store.delete(kinds.ROLE, account, key)
