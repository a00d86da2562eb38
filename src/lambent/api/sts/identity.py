"""STS GetCallerIdentity: who the signed request says the caller is."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers


class IdentityHandlers(ServiceHandlers):
    service = "sts"

    def get_caller_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = ctx.caller
        return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.principal_arn}
