"""Who is calling: SigV4 against stored keys, or `open` mode for local development."""

from __future__ import annotations

from dataclasses import dataclass

from lambent.auth import sigv4
from lambent.auth.credentials import CredentialStore
from lambent.clock import Clock
from lambent.errors import (
    ExpiredToken,
    InvalidSignature,
    MissingAuthentication,
    UnrecognizedClient,
)
from lambent.http.messages import Request
from lambent.settings import AuthMode

BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
BAD_TOKEN = "The security token included in the request is invalid."


@dataclass(frozen=True)
class Caller:
    account_id: str
    principal_arn: str
    user_id: str
    access_key: str | None
    region: str | None
    service: str | None


class Authenticator:
    def __init__(
        self, mode: AuthMode, credentials: CredentialStore, clock: Clock, open_account: str
    ) -> None:
        self._mode = mode
        self._credentials = credentials
        self._clock = clock
        self._open_account = open_account

    def scope(self, req: Request) -> sigv4.Authorization | None:
        """The credential scope, if the request carries a parseable one (for service routing)."""
        try:
            return sigv4.parse_authorization(req.headers.get("authorization"))
        except sigv4.SignatureProblem:
            return None

    async def authenticate(self, req: Request) -> Caller:
        if self._mode == "open":
            return await self._open(req)
        try:
            auth = sigv4.parse_authorization(req.headers.get("authorization"))
        except sigv4.SignatureProblem as exc:
            if exc.kind == "missing":
                raise MissingAuthentication(exc.message) from exc
            raise InvalidSignature(exc.message) from exc
        # Expired session keys are found too, so the caller hears ExpiredTokenException.
        cred = await self._credentials.lookup(auth.access_key, include_expired=True)
        if cred is None or cred.status != "Active":
            raise UnrecognizedClient(BAD_TOKEN)
        if cred.session_token is not None:
            token = req.headers.get("x-amz-security-token")
            if token != cred.session_token:
                raise UnrecognizedClient(BAD_TOKEN)
            if cred.expires_at is not None and cred.expires_at < self._clock.time():
                raise ExpiredToken("The security token included in the request is expired")
        try:
            ok = sigv4.verify(
                auth,
                cred.secret,
                req.method,
                req.raw_path,
                req.raw_query,
                req.headers,
                req.body,
                self._clock.time(),
            )
        except sigv4.SignatureProblem as exc:
            raise InvalidSignature(exc.message) from exc
        if not ok:
            raise InvalidSignature(BAD_SIGNATURE)
        return Caller(
            cred.account_id,
            cred.principal_arn,
            cred.user_id,
            cred.access_key,
            auth.region,
            auth.service,
        )

    async def _open(self, req: Request) -> Caller:
        auth = self.scope(req)
        account = self._open_account
        access_key = auth.access_key if auth else None
        if access_key:
            cred = await self._credentials.lookup(access_key)
            if cred is not None:
                # Keys Lambent issued (AssumeRole, CreateAccessKey) keep their identity.
                return Caller(
                    cred.account_id,
                    cred.principal_arn,
                    cred.user_id,
                    access_key,
                    auth.region if auth else None,
                    auth.service if auth else None,
                )
        return Caller(
            account,
            f"arn:aws:iam::{account}:root",
            account,
            access_key,
            auth.region if auth else None,
            auth.service if auth else None,
        )
