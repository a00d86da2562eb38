"""STS AssumeRole and GetSessionToken on the wire."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.iam.sessions import SessionCredentials, SessionIssuer


def _credentials(issued: SessionCredentials) -> dict[str, Any]:
    return {
        "AccessKeyId": issued.access_key_id,
        "SecretAccessKey": issued.secret_access_key,
        "SessionToken": issued.session_token,
        "Expiration": issued.expiration,
    }


class SessionHandlers(ServiceHandlers):
    service = "sts"

    def __init__(self, issuer: SessionIssuer) -> None:
        self._issuer = issuer

    async def assume_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        issued = await self._issuer.assume_role(
            ctx.account_id,
            ctx.caller.principal_arn,
            params["RoleArn"],
            params["RoleSessionName"],
            params.get("DurationSeconds"),
        )
        out: dict[str, Any] = {
            "Credentials": _credentials(issued),
            "AssumedRoleUser": {"AssumedRoleId": issued.user_id, "Arn": issued.principal_arn},
        }
        if params.get("SourceIdentity"):
            out["SourceIdentity"] = params["SourceIdentity"]
        return out

    async def get_session_token(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        caller = ctx.caller
        issued = await self._issuer.session_token(
            caller.account_id, caller.principal_arn, caller.user_id, params.get("DurationSeconds")
        )
        return {"Credentials": _credentials(issued)}
