"""Managed policies: the account's own (customer managed) and AWS's catalog, by ARN."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambent.clock import Clock
from lambent.errors import AccessDenied, IamDeleteConflict, IamEntityAlreadyExists, IamNoSuchEntity
from lambent.iam import aws_managed, documents, kinds, names, paging
from lambent.store.interface import Doc, Store

DEFAULT_VERSION = "v1"
ATTACHMENT_KINDS = (kinds.ROLE_ATTACHMENT, kinds.USER_ATTACHMENT)


@dataclass(frozen=True)
class ManagedPolicy:
    """A policy as IAM's `Policy` shape plus its default version's document text."""

    shape: Doc
    document: str


def _from_catalog(entry: aws_managed.AwsPolicy) -> ManagedPolicy:
    shape: Doc = {
        "PolicyName": entry.name,
        "PolicyId": entry.policy_id,
        "Arn": entry.arn,
        "Path": entry.path,
        "DefaultVersionId": DEFAULT_VERSION,
        "AttachmentCount": 0,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "Description": entry.description,
        "CreateDate": aws_managed.CREATED,
        "UpdateDate": aws_managed.CREATED,
    }
    return ManagedPolicy(shape, entry.document())


class Policies:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def create(self, account: str, params: dict[str, Any]) -> Doc:
        name = str(params["PolicyName"])
        document = str(params["PolicyDocument"])
        documents.check_permission_policy(document, documents.MANAGED_POLICY_QUOTA)
        path = str(params.get("Path") or "/")
        now = float(int(self._clock.time()))
        shape: Doc = {
            "PolicyName": name,
            "PolicyId": names.policy_id(),
            "Arn": names.iam_arn(account, "policy", path, name),
            "Path": path,
            "DefaultVersionId": DEFAULT_VERSION,
            "AttachmentCount": 0,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
            "CreateDate": now,
            "UpdateDate": now,
        }
        if params.get("Description") is not None:
            shape["Description"] = params["Description"]
        if params.get("Tags"):
            shape["Tags"] = list(params["Tags"])
        async with self._store.transaction():
            if await self._find(account, name) is not None:
                raise IamEntityAlreadyExists(
                    f"A policy called {name} already exists. Duplicate names are not allowed."
                )
            await self._store.put(
                kinds.POLICY, account, name, {"policy": shape, "document": document}
            )
        return shape

    async def _find(self, account: str, name: str) -> Doc | None:
        return await kinds.find_named(self._store, kinds.POLICY, account, name)

    async def resolve(self, account: str, arn: str) -> ManagedPolicy | None:
        """The policy an ARN names, if `account` may see it (its own or AWS's)."""
        parsed = names.parse_iam_arn(arn, "policy")
        if parsed.account == names.AWS_ACCOUNT:
            entry = aws_managed.by_arn(arn)
            return _from_catalog(entry) if entry is not None else None
        if parsed.account != account:
            return None
        doc = await self._store.get(kinds.POLICY, account, parsed.name)
        if doc is None or doc["policy"]["Arn"] != arn:
            return None
        return ManagedPolicy(dict(doc["policy"]), str(doc["document"]))

    async def get(self, account: str, arn: str) -> Doc:
        found = await self.resolve(account, arn)
        if found is None:
            raise IamNoSuchEntity(f"Policy {arn} was not found.")
        shape = dict(found.shape)
        shape["AttachmentCount"] = await self.attachment_count(account, arn)
        return shape

    async def get_version(self, account: str, arn: str, version: str) -> Doc:
        found = await self.resolve(account, arn)
        if found is None or version != DEFAULT_VERSION:
            raise IamNoSuchEntity(f"Policy {arn} version {version} does not exist.")
        return {
            "Document": documents.encode(found.document),
            "VersionId": DEFAULT_VERSION,
            "IsDefaultVersion": True,
            "CreateDate": found.shape["CreateDate"],
        }

    async def attachment_count(self, account: str, arn: str) -> int:
        count = 0
        for kind in ATTACHMENT_KINDS:
            rows = await self._store.list(kind, account)
            count += sum(1 for row in rows if row.doc.get("PolicyArn") == arn)
        return count

    async def delete(self, account: str, arn: str) -> None:
        parsed = names.parse_iam_arn(arn, "policy")
        if parsed.account == names.AWS_ACCOUNT:
            raise AccessDenied(f"Policy {arn} is an AWS managed policy and cannot be deleted.")
        async with self._store.transaction():
            if await self.resolve(account, arn) is None:
                raise IamNoSuchEntity(f"Policy {arn} was not found.")
            if await self.attachment_count(account, arn):
                raise IamDeleteConflict("Cannot delete a policy attached to entities.")
            await self._store.delete(kinds.POLICY, account, parsed.name)

    async def list(self, account: str, params: dict[str, Any]) -> dict[str, Any]:
        scope = str(params.get("Scope") or "All")
        prefix = str(params.get("PathPrefix") or "/")
        found: list[Doc] = []
        if scope in ("All", "AWS"):
            found += [_from_catalog(entry).shape for entry in aws_managed.CATALOG]
        if scope in ("All", "Local"):
            found += [
                dict(row.doc["policy"]) for row in await self._store.list(kinds.POLICY, account)
            ]
        for shape in found:
            shape["AttachmentCount"] = await self.attachment_count(account, str(shape["Arn"]))
        selected = [
            s
            for s in found
            if str(s["Path"]).startswith(prefix)
            and (not params.get("OnlyAttached") or s["AttachmentCount"] > 0)
        ]
        chunk, extra = paging.page(selected, lambda s: (str(s["Arn"]),), params)
        return {"Policies": chunk, **extra}
