"""IAM users and their access keys, on the wire.

Without a UserName, user-scoped calls act on the caller: an IAM user acts on itself,
the account root on the root's own keys, and session credentials must name a user.
"""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.errors import ValidationError
from lambent.iam import names, tags
from lambent.iam.access_keys import AccessKeys
from lambent.iam.users import Users


def _subject(ctx: RequestContext, params: dict[str, Any]) -> str | None:
    """The user a call is about; None means the account root."""
    if params.get("UserName"):
        return str(params["UserName"])
    arn = ctx.caller.principal_arn
    user = names.user_name_of(arn)
    if user is not None:
        return user
    if arn == names.root_arn(ctx.account_id):
        return None
    raise ValidationError("Must specify userName when calling with non-User credentials")


class UserHandlers(ServiceHandlers):
    service = "iam"

    def __init__(self, users: Users, keys: AccessKeys) -> None:
        self._users = users
        self._keys = keys

    async def create_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"User": await self._users.create(ctx.account_id, params)}

    async def get_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _subject(ctx, params)
        if name is None:
            return {"User": await self._users.root(ctx.account_id)}
        return {"User": await self._users.get(ctx.account_id, name)}

    async def list_users(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._users.list(ctx.account_id, params)

    async def delete_user(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._users.delete(ctx.account_id, params["UserName"])

    async def create_access_key(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return {"AccessKey": await self._keys.create(ctx.account_id, _subject(ctx, params))}

    async def list_access_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._keys.list(ctx.account_id, _subject(ctx, params), params)

    async def delete_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._keys.delete(ctx.account_id, _subject(ctx, params), params["AccessKeyId"])

    async def update_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._keys.set_status(
            ctx.account_id, _subject(ctx, params), params["AccessKeyId"], params["Status"]
        )

    async def tag_user(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        user = await self._users.get(ctx.account_id, params["UserName"])
        updated = tags.merged(user.get("Tags", []), params["Tags"], "TagsPerUser")
        await self._users.update(ctx.account_id, params["UserName"], {"Tags": updated or None})

    async def untag_user(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        user = await self._users.get(ctx.account_id, params["UserName"])
        updated = tags.without(user.get("Tags", []), params["TagKeys"])
        await self._users.update(ctx.account_id, params["UserName"], {"Tags": updated or None})

    async def list_user_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = await self._users.get(ctx.account_id, params["UserName"])
        return tags.listed(user.get("Tags", []), params)
