"""What a handler knows about the call it is serving."""

from __future__ import annotations

from dataclasses import dataclass, field

from lambent.auth.authenticator import Caller
from lambent.http.messages import Request


@dataclass(slots=True)
class RequestContext:
    request_id: str
    caller: Caller
    region: str
    service: str
    operation: str
    request: Request
    # Extra response headers a handler wants sent (beyond modelled output members).
    response_headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def account_id(self) -> str:
        return self.caller.account_id
