"""Handlers for the iam service. `handlers(app)` returns the objects the dispatcher calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.iam.policies import PolicyHandlers, RolePolicyHandlers, UserPolicyHandlers
from lambent.api.iam.roles import RoleHandlers
from lambent.api.iam.users import UserHandlers
from lambent.iam import attachments
from lambent.iam.access_keys import AccessKeys
from lambent.iam.attachments import EntityPolicies
from lambent.iam.policies import Policies
from lambent.iam.users import Users

if TYPE_CHECKING:
    from lambent.app import App


def handlers(app: App) -> list[ServiceHandlers]:
    roles = app.roles
    users = Users(app.store, app.clock)
    policies = Policies(app.store, app.clock)
    return [
        RoleHandlers(roles),
        PolicyHandlers(policies),
        RolePolicyHandlers(EntityPolicies(app.store, policies, attachments.ROLE, roles.get)),
        UserPolicyHandlers(EntityPolicies(app.store, policies, attachments.USER, users.get)),
        UserHandlers(users, AccessKeys(app.store, app.credentials, users, app.clock)),
    ]
