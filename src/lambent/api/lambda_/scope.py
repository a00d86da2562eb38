"""The account and region a Lambda request acts in."""

from __future__ import annotations

from lambent.api.context import RequestContext
from lambent.functions.lookup import Scope


def scope(ctx: RequestContext) -> Scope:
    return Scope(ctx.account_id, ctx.region)
