"""Managed policies and the policies on roles and users, on the wire."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.iam.attachments import EntityPolicies
from lambent.iam.policies import Policies


class PolicyHandlers(ServiceHandlers):
    service = "iam"

    def __init__(self, policies: Policies) -> None:
        self._policies = policies

    async def create_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Policy": await self._policies.create(ctx.account_id, params)}

    async def get_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Policy": await self._policies.get(ctx.account_id, params["PolicyArn"])}

    async def get_policy_version(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        version = await self._policies.get_version(
            ctx.account_id, params["PolicyArn"], params["VersionId"]
        )
        return {"PolicyVersion": version}

    async def delete_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._policies.delete(ctx.account_id, params["PolicyArn"])

    async def list_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._policies.list(ctx.account_id, params)


class RolePolicyHandlers(ServiceHandlers):
    service = "iam"

    def __init__(self, on_roles: EntityPolicies) -> None:
        self._on = on_roles

    async def attach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on.attach(ctx.account_id, params["RoleName"], params["PolicyArn"])

    async def detach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on.detach(ctx.account_id, params["RoleName"], params["PolicyArn"])

    async def list_attached_role_policies(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._on.list_attached(ctx.account_id, params["RoleName"], params)

    async def put_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on.put_inline(
            ctx.account_id, params["RoleName"], params["PolicyName"], params["PolicyDocument"]
        )

    async def get_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._on.get_inline(ctx.account_id, params["RoleName"], params["PolicyName"])

    async def list_role_policies(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._on.list_inline(ctx.account_id, params["RoleName"], params)

    async def delete_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on.delete_inline(ctx.account_id, params["RoleName"], params["PolicyName"])


class UserPolicyHandlers(ServiceHandlers):
    service = "iam"

    def __init__(self, on_users: EntityPolicies) -> None:
        self._on = on_users

    async def attach_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on.attach(ctx.account_id, params["UserName"], params["PolicyArn"])

    async def detach_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on.detach(ctx.account_id, params["UserName"], params["PolicyArn"])

    async def list_attached_user_policies(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._on.list_attached(ctx.account_id, params["UserName"], params)

    async def put_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on.put_inline(
            ctx.account_id, params["UserName"], params["PolicyName"], params["PolicyDocument"]
        )

    async def get_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._on.get_inline(ctx.account_id, params["UserName"], params["PolicyName"])

    async def list_user_policies(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._on.list_inline(ctx.account_id, params["UserName"], params)

    async def delete_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on.delete_inline(ctx.account_id, params["UserName"], params["PolicyName"])
