"""Secrets Manager operations on the wire: thin, over the secret store (secrets/service.py).

A caller reaches the secrets of its own account (an IAM user, the root keys, or a
function's execution role: its session's account). Secrets have no resource policies
here, so an ARN in another account is refused with AccessDeniedException, and Lambent
evaluates no identity-based policies (as for its other services).
"""

from __future__ import annotations

from typing import Any

from lambent import paging
from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.errors import AccessDenied, InvalidInputError
from lambent.secrets import names
from lambent.secrets.errors import SecretInvalidParameter
from lambent.secrets.service import Secrets, public, version_stages
from lambent.store.interface import Doc

DEFAULT_PAGE = 100
_SORTS = ("created-date", "last-accessed-date", "last-changed-date", "name")


class InvalidNextToken(InvalidInputError):
    code = "InvalidNextTokenException"


def _matches(doc: Doc, filters: list[dict[str, Any]]) -> bool:
    """Every filter holds (AWS ANDs them); a filter holds when one of its values is a
    prefix of the field (`!value` negates it). Case-sensitive."""
    for item in filters:
        key, values = item.get("Key"), item.get("Values") or []
        fields = _fields(doc, str(key))
        for raw in values:
            negate = raw.startswith("!")
            value = raw[1:] if negate else raw
            hit = any(f.startswith(value) for f in fields)
            if hit == negate:
                return False
    return True


def _fields(doc: Doc, key: str) -> list[str]:
    tags = doc.get("tags") or []
    by_key = {
        "name": [doc["name"]],
        "description": [doc.get("description") or ""],
        "tag-key": [t["Key"] for t in tags],
        "tag-value": [t.get("Value", "") for t in tags],
    }
    if key == "all":
        return [f for fields in by_key.values() for f in fields]
    return by_key.get(key, [])


def _sort_key(sort_by: str, descending: bool) -> Any:
    field = {
        "created-date": "created",
        "last-accessed-date": "accessed",
        "last-changed-date": "changed",
    }.get(sort_by)

    def key(doc: Doc) -> paging.Key:
        sign = -1 if descending else 1
        if field is None:
            chars = tuple(sign * ord(c) for c in doc["name"])
            return (*chars, 0)
        stamp = int((doc.get(field) or 0) * 1_000_000)
        return (sign * stamp, doc["name"])

    return key


class SecretsHandlers(ServiceHandlers):
    service = "secretsmanager"

    def __init__(self, secrets: Secrets) -> None:
        self._secrets = secrets

    @staticmethod
    def _id(ctx: RequestContext, params: dict[str, Any]) -> str:
        secret_id = str(params["SecretId"])
        account, _ = names.candidates(secret_id)
        if account is not None and account != ctx.account_id:
            raise AccessDenied(
                f"User: {ctx.caller.principal_arn} is not authorized to perform: "
                f"secretsmanager:{ctx.operation} on resource: {secret_id} because no "
                "resource-based policy allows the secretsmanager:"
                f"{ctx.operation} action"
            )
        return secret_id

    async def create_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc, vid = await self._secrets.create(
            ctx.account_id,
            ctx.region,
            params["Name"],
            token=params.get("ClientRequestToken"),
            string=params.get("SecretString"),
            binary=params.get("SecretBinary"),
            description=params.get("Description"),
            kms_key_id=params.get("KmsKeyId"),
            tags=params.get("Tags"),
        )
        out = {"ARN": doc["arn"], "Name": doc["name"]}
        return {**out, "VersionId": vid} if vid else out

    async def put_secret_value(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc, vid, stages = await self._secrets.put_value(
            ctx.account_id,
            self._id(ctx, params),
            token=params.get("ClientRequestToken"),
            string=params.get("SecretString"),
            binary=params.get("SecretBinary"),
            stages=params.get("VersionStages"),
        )
        return {"ARN": doc["arn"], "Name": doc["name"], "VersionId": vid, "VersionStages": stages}

    async def get_secret_value(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        got = await self._secrets.get_value(
            ctx.account_id,
            self._id(ctx, params),
            params.get("VersionId"),
            params.get("VersionStage"),
        )
        field = "SecretString" if isinstance(got.value, str) else "SecretBinary"
        return {
            "ARN": got.doc["arn"],
            "Name": got.doc["name"],
            "VersionId": got.version_id,
            field: got.value,
            "VersionStages": got.stages,
            "CreatedDate": got.created,
        }

    async def describe_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = await self._secrets.describe(ctx.account_id, self._id(ctx, params))
        return {**public(doc), "VersionIdsToStages": version_stages(doc)}

    async def list_secrets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        sort_by = params.get("SortBy") or "created-date"
        if sort_by not in _SORTS:
            raise SecretInvalidParameter(f"Invalid SortBy value: {sort_by}")
        descending = (params.get("SortOrder") or "asc") == "desc"
        docs = await self._secrets.list(ctx.account_id, bool(params.get("IncludePlannedDeletion")))
        docs = [d for d in docs if _matches(d, params.get("Filters") or [])]
        after = None
        if params.get("NextToken"):
            try:
                after = paging.decode(params["NextToken"])
            except paging.BadMarker as exc:
                raise InvalidNextToken("The NextToken value is invalid.") from exc
        try:
            shown, more = paging.page(
                docs,
                _sort_key(sort_by, descending),
                after,
                params.get("MaxResults") or DEFAULT_PAGE,
            )
        except paging.BadMarker as exc:
            raise InvalidNextToken("The NextToken value is invalid.") from exc
        entries = [{**public(d), "SecretVersionsToStages": version_stages(d)} for d in shown]
        out: dict[str, Any] = {"SecretList": entries}
        if more is not None:
            out["NextToken"] = paging.encode(more)
        return out

    async def delete_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc, when = await self._secrets.delete(
            ctx.account_id,
            self._id(ctx, params),
            params.get("RecoveryWindowInDays"),
            bool(params.get("ForceDeleteWithoutRecovery")),
        )
        return {"ARN": doc["arn"], "Name": doc["name"], "DeletionDate": when}

    async def restore_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = await self._secrets.restore(ctx.account_id, self._id(ctx, params))
        return {"ARN": doc["arn"], "Name": doc["name"]}
