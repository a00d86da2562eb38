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

    def create_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Role": self._roles.create(ctx.account_id, params)}

    def get_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = dict(self._roles.get(ctx.account_id, params["RoleName"]))
        role.setdefault("RoleLastUsed", {})
        return {"Role": role}

    def list_roles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._roles.list(ctx.account_id, params)

    def delete_role(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        self._roles.delete(ctx.account_id, params["RoleName"])

    def update_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {
            k: params[k] for k in ("Description", "MaxSessionDuration") if k in params
        }
        self._roles.update(ctx.account_id, params["RoleName"], changes)
        return {}

    def update_role_description(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        changes = {"Description": params["Description"]}
        return {"Role": self._roles.update(ctx.account_id, params["RoleName"], changes)}

    def update_assume_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        self._roles.update_trust_policy(
            ctx.account_id, params["RoleName"], params["PolicyDocument"]
        )

    def tag_role(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        role = self._roles.get(ctx.account_id, params["RoleName"])
        updated = tags.merged(role.get("Tags", []), params["Tags"], "TagsPerRole")
        self._roles.update(ctx.account_id, params["RoleName"], {"Tags": updated or None})

    def untag_role(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        role = self._roles.get(ctx.account_id, params["RoleName"])
        updated = tags.without(role.get("Tags", []), params["TagKeys"])
        self._roles.update(ctx.account_id, params["RoleName"], {"Tags": updated or None})

    def list_role_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self._roles.get(ctx.account_id, params["RoleName"])
        return tags.listed(role.get("Tags", []), params)

    def list_instance_profiles_for_role(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Lambent has no instance profiles; tools (Terraform) ask before deleting a role."""
        self._roles.get(ctx.account_id, params["RoleName"])
        return {"InstanceProfiles": [], "IsTruncated": False}
