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

    def create_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Policy": self._policies.create(ctx.account_id, params)}

    def get_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Policy": self._policies.get(ctx.account_id, params["PolicyArn"])}

    def get_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        version = self._policies.get_version(
            ctx.account_id, params["PolicyArn"], params["VersionId"]
        )
        return {"PolicyVersion": version}

    def delete_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        self._policies.delete(ctx.account_id, params["PolicyArn"])

    def list_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._policies.list(ctx.account_id, params)


class RolePolicyHandlers(ServiceHandlers):
    service = "iam"

    def __init__(self, on_roles: EntityPolicies) -> None:
        self._on = on_roles

    def attach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        self._on.attach(ctx.account_id, params["RoleName"], params["PolicyArn"])

    def detach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        self._on.detach(ctx.account_id, params["RoleName"], params["PolicyArn"])

    def list_attached_role_policies(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._on.list_attached(ctx.account_id, params["RoleName"], params)

    def put_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        self._on.put_inline(
            ctx.account_id, params["RoleName"], params["PolicyName"], params["PolicyDocument"]
        )

    def get_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._on.get_inline(ctx.account_id, params["RoleName"], params["PolicyName"])

    def list_role_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._on.list_inline(ctx.account_id, params["RoleName"], params)

    def delete_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        self._on.delete_inline(ctx.account_id, params["RoleName"], params["PolicyName"])


class UserPolicyHandlers(ServiceHandlers):
    service = "iam"

    def __init__(self, on_users: EntityPolicies) -> None:
        self._on = on_users

    def attach_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        self._on.attach(ctx.account_id, params["UserName"], params["PolicyArn"])

    def detach_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        self._on.detach(ctx.account_id, params["UserName"], params["PolicyArn"])

    def list_attached_user_policies(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._on.list_attached(ctx.account_id, params["UserName"], params)

    def put_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        self._on.put_inline(
            ctx.account_id, params["UserName"], params["PolicyName"], params["PolicyDocument"]
        )

    def get_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._on.get_inline(ctx.account_id, params["UserName"], params["PolicyName"])

    def list_user_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._on.list_inline(ctx.account_id, params["UserName"], params)

    def delete_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        self._on.delete_inline(ctx.account_id, params["UserName"], params["PolicyName"])
