"""IAM role operations on the wire: thin over `lambent.iam.roles`."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.iam import tags
from lambent.iam.roles import Roles


class RoleHandlers(ServiceHandlers):
    service = "iam"

    def __init__(self, roles: Roles) -> None:
        self._roles = roles

    async def create_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Role": await self._roles.create(ctx.account_id, params)}

    async def get_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = dict(await self._roles.get(ctx.account_id, params["RoleName"]))
        role.setdefault("RoleLastUsed", {})
        return {"Role": role}

    async def list_roles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._roles.list(ctx.account_id, params)

    async def delete_role(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._roles.delete(ctx.account_id, params["RoleName"])

    async def update_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {
            k: params[k] for k in ("Description", "MaxSessionDuration") if k in params
        }
        await self._roles.update(ctx.account_id, params["RoleName"], changes)
        return {}

    async def update_role_description(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        changes = {"Description": params["Description"]}
        return {"Role": await self._roles.update(ctx.account_id, params["RoleName"], changes)}

    async def update_assume_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._roles.update_trust_policy(
            ctx.account_id, params["RoleName"], params["PolicyDocument"]
        )

    async def tag_role(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        role = await self._roles.get(ctx.account_id, params["RoleName"])
        updated = tags.merged(role.get("Tags", []), params["Tags"], "TagsPerRole")
        await self._roles.update(ctx.account_id, params["RoleName"], {"Tags": updated or None})

    async def untag_role(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        role = await self._roles.get(ctx.account_id, params["RoleName"])
        updated = tags.without(role.get("Tags", []), params["TagKeys"])
        await self._roles.update(ctx.account_id, params["RoleName"], {"Tags": updated or None})

    async def list_role_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = await self._roles.get(ctx.account_id, params["RoleName"])
        return tags.listed(role.get("Tags", []), params)

    async def list_instance_profiles_for_role(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Lambent has no instance profiles; tools (Terraform) ask before deleting a role."""
        await self._roles.get(ctx.account_id, params["RoleName"])
        return {"InstanceProfiles": [], "IsTruncated": False}
