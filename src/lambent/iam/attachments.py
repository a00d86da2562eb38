"""Policies on a role or user: managed policies attached by ARN, and inline policies.

Roles and users follow the same rules with different quotas and names, so one class
serves both, parameterised by `EntityKind`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lambent.errors import IamLimitExceeded, IamNoSuchEntity
from lambent.iam import documents, kinds, paging
from lambent.iam.policies import Policies
from lambent.store.interface import Doc, Store

Lookup = Callable[[str, str], Awaitable[Doc]]


@dataclass(frozen=True)
class EntityKind:
    noun: str
    name_field: str
    attachment_kind: str
    inline_kind: str
    managed_quota: int
    managed_quota_name: str
    inline_quota: int


ROLE = EntityKind(
    "role", "RoleName", kinds.ROLE_ATTACHMENT, kinds.ROLE_POLICY, 10, "PoliciesPerRole", 10240
)
USER = EntityKind(
    "user", "UserName", kinds.USER_ATTACHMENT, kinds.USER_POLICY, 10, "PoliciesPerUser", 2048
)


class EntityPolicies:
    """`lookup(account, name)` returns the entity document or raises NoSuchEntity."""

    def __init__(self, store: Store, policies: Policies, kind: EntityKind, lookup: Lookup) -> None:
        self._store = store
        self._policies = policies
        self._kind = kind
        self._lookup = lookup

    async def _name(self, account: str, name: str) -> str:
        return str((await self._lookup(account, name))[self._kind.name_field])

    # managed ---------------------------------------------------------------------------
    async def attach(self, account: str, name: str, arn: str) -> None:
        kind = self._kind
        async with self._store.transaction():
            owner = await self._name(account, name)
            policy = await self._policies.resolve(account, arn)
            if policy is None:
                raise IamNoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
            key = kinds.child_key(owner, arn)
            if await self._store.get(kind.attachment_kind, account, key) is not None:
                return
            attached = await self._store.list(kind.attachment_kind, account, parent=owner)
            if len(attached) >= kind.managed_quota:
                raise IamLimitExceeded(
                    f"Cannot exceed quota for {kind.managed_quota_name}: {kind.managed_quota}"
                )
            doc = {
                "PolicyName": policy.shape["PolicyName"],
                "PolicyArn": arn,
                "Path": policy.shape["Path"],
            }
            await self._store.put(kind.attachment_kind, account, key, doc, parent=owner)

    async def detach(self, account: str, name: str, arn: str) -> None:
        async with self._store.transaction():
            owner = await self._name(account, name)
            if not await self._store.delete(
                self._kind.attachment_kind, account, kinds.child_key(owner, arn)
            ):
                raise IamNoSuchEntity(f"Policy {arn} was not found.")

    async def list_attached(
        self, account: str, name: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        owner = await self._name(account, name)
        prefix = str(params.get("PathPrefix") or "/")
        rows = [
            row.doc
            for row in await self._store.list(self._kind.attachment_kind, account, parent=owner)
            if str(row.doc.get("Path", "/")).startswith(prefix)
        ]
        chunk, extra = paging.page(rows, lambda d: (str(d["PolicyArn"]),), params)
        listed = [{"PolicyName": d["PolicyName"], "PolicyArn": d["PolicyArn"]} for d in chunk]
        return {"AttachedPolicies": listed, **extra}

    # inline ----------------------------------------------------------------------------
    async def put_inline(self, account: str, name: str, policy_name: str, document: str) -> None:
        kind = self._kind
        documents.check_permission_policy(document, kind.inline_quota)
        async with self._store.transaction():
            owner = await self._name(account, name)
            key = kinds.child_key(owner, policy_name)
            others = sum(
                documents.size(str(row.doc["PolicyDocument"]))
                for row in await self._store.list(kind.inline_kind, account, parent=owner)
                if row.key != key
            )
            if others + documents.size(document) > kind.inline_quota:
                raise IamLimitExceeded(
                    f"Maximum policy size of {kind.inline_quota} bytes exceeded for "
                    f"{kind.noun} {owner}"
                )
            doc = {"PolicyName": policy_name, "PolicyDocument": document}
            await self._store.put(kind.inline_kind, account, key, doc, parent=owner)

    def _inline_missing(self, policy_name: str) -> IamNoSuchEntity:
        return IamNoSuchEntity(
            f"The {self._kind.noun} policy with name {policy_name} cannot be found."
        )

    async def get_inline(self, account: str, name: str, policy_name: str) -> dict[str, Any]:
        owner = await self._name(account, name)
        doc = await self._store.get(
            self._kind.inline_kind, account, kinds.child_key(owner, policy_name)
        )
        if doc is None:
            raise self._inline_missing(policy_name)
        return {
            self._kind.name_field: owner,
            "PolicyName": doc["PolicyName"],
            "PolicyDocument": documents.encode(str(doc["PolicyDocument"])),
        }

    async def list_inline(self, account: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
        owner = await self._name(account, name)
        names = [
            str(row.doc["PolicyName"])
            for row in await self._store.list(self._kind.inline_kind, account, parent=owner)
        ]
        chunk, extra = paging.page(names, lambda n: (n,), params)
        return {"PolicyNames": chunk, **extra}

    async def delete_inline(self, account: str, name: str, policy_name: str) -> None:
        async with self._store.transaction():
            owner = await self._name(account, name)
            key = kinds.child_key(owner, policy_name)
            if not await self._store.delete(self._kind.inline_kind, account, key):
                raise self._inline_missing(policy_name)
