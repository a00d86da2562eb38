"""Temporary credentials: STS AssumeRole, GetSessionToken, and execution-role sessions.

Session keys (ASIA...) are saved through `CredentialStore` with their token and expiry,
so SigV4 verification accepts them and refuses them once expired. Expired keys are
purged on a cadence driven by issuance itself: every key that can expire was issued
here, so sweeping whenever at least `purge_interval_s` has passed since the last sweep
bounds the store by the issue rate times the longest lifetime, with no timer thread.

The invoke path calls `execution_credentials` directly (no HTTP round trip) for every new
execution environment and hands the result to the function as AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, so a function can call back into Lambent with
boto3. Those keys are the environment's own and live in memory only.
"""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass

from lambent.auth.credentials import Credential, CredentialStore, new_access_key, new_secret
from lambent.clock import Clock
from lambent.errors import AccessDenied, IamInvalidInput, IamNoSuchEntity, ValidationError
from lambent.iam import names
from lambent.iam.roles import Roles, trust_policy_text
from lambent.iam.trust import allows_principal
from lambent.store.interface import Doc

SESSION_KEY_PREFIX = "ASIA"
DEFAULT_DURATION_S = 3600
CHAINED_MAX_S = 3600
SESSION_TOKEN_MAX_S = 129600
ROOT_SESSION_TOKEN_MAX_S = 3600
PURGE_INTERVAL_S = 300.0
# An execution role, once found, is trusted for new environments' credentials this long
# (a cold start does no store read for it); a deleted role stops being served after it.
EXECUTION_ROLE_REUSE_S = 60.0


@dataclass(frozen=True)
class SessionCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: float
    # AROA...:session for role sessions, the user's id for GetSessionToken.
    user_id: str
    principal_arn: str

    def environment(self) -> dict[str, str]:
        """The variables a function's SDK reads its credentials from."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


def new_session_token() -> str:
    return base64.b64encode(secrets.token_bytes(264)).decode()


def is_role_session(principal_arn: str) -> bool:
    return principal_arn.startswith("arn:aws:sts::") and ":assumed-role/" in principal_arn


class SessionIssuer:
    def __init__(
        self,
        roles: Roles,
        credentials: CredentialStore,
        clock: Clock,
        *,
        purge_interval_s: float = PURGE_INTERVAL_S,
        shared_execution_keys: bool = False,
    ) -> None:
        # A worker (docs/CLUSTER.md) issues environments' keys that frontends must verify:
        # they go to the shared store, sealed, instead of this process's memory.
        self._shared_execution_keys = shared_execution_keys
        self._roles = roles
        self._credentials = credentials
        self._clock = clock
        self._purge_interval = purge_interval_s
        self._last_purge: float | None = None
        # role ARN -> (found at, monotonic; its account; the role)
        self._roles_found: dict[str, tuple[float, str, Doc]] = {}
        self._lock = threading.Lock()

    # STS --------------------------------------------------------------------------------
    async def assume_role(
        self,
        caller_account: str,
        caller_arn: str,
        role_arn: str,
        session_name: str,
        duration_s: int | None = None,
    ) -> SessionCredentials:
        denied = AccessDenied(
            f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}"
        )
        role = await self._role_for(role_arn)
        if role is None:
            raise denied
        account = names.parse_iam_arn(role_arn, "role").account
        if account != caller_account and not allows_principal(
            trust_policy_text(role), caller_account, caller_arn
        ):
            raise denied
        duration = duration_s or DEFAULT_DURATION_S
        if is_role_session(caller_arn) and duration > CHAINED_MAX_S:
            raise ValidationError(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining."
            )
        if duration > int(role.get("MaxSessionDuration") or DEFAULT_DURATION_S):
            raise ValidationError(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        return await self._issue_for_role(account, role, session_name, duration)

    async def session_token(
        self, account: str, principal_arn: str, user_id: str, duration_s: int | None
    ) -> SessionCredentials:
        """GetSessionToken: the caller's own identity, temporarily."""
        if is_role_session(principal_arn):
            raise AccessDenied("Cannot call GetSessionToken with session credentials")
        is_root = principal_arn == names.root_arn(account)
        cap = ROOT_SESSION_TOKEN_MAX_S if is_root else SESSION_TOKEN_MAX_S
        duration = min(duration_s or 43200, cap)
        return await self._issue(account, principal_arn, user_id, duration)

    # data plane -------------------------------------------------------------------------
    async def execution_credentials(
        self, role_arn: str, session_name: str, *, valid_for_s: float
    ) -> SessionCredentials:
        """Credentials of a function's execution role for one execution environment, valid
        for `valid_for_s`: every environment gets its own, as on Lambda.

        Lambda assumes the role as a service, so the caller's identity and the role's
        MaxSessionDuration do not apply. The keys live in memory only (never in the store:
        an environment does not outlive the server, and its secret is never at rest),
        except on a cluster's worker, where the frontends that verify them must find them
        (the shared store, sealed under the master key).
        Raises IamNoSuchEntity when the role is gone.
        """
        account, role = await self._execution_role(role_arn)
        role_name = str(role["RoleName"])
        return await self._issue(
            account,
            names.assumed_role_arn(account, role_name, session_name),
            f"{role['RoleId']}:{session_name}",
            valid_for_s,
            persist=self._shared_execution_keys,
        )

    async def _execution_role(self, role_arn: str) -> tuple[str, Doc]:
        now = self._clock.monotonic()
        with self._lock:
            found = self._roles_found.get(role_arn)
        if found is not None and now - found[0] < EXECUTION_ROLE_REUSE_S:
            return found[1], found[2]
        role = await self._role_for(role_arn)
        if role is None:
            raise IamNoSuchEntity(f"The role with ARN {role_arn} cannot be found.")
        account = names.parse_iam_arn(role_arn, "role").account
        with self._lock:
            self._roles_found[role_arn] = (now, account, role)
            for stale in [k for k, v in self._roles_found.items() if now - v[0] >= 600.0]:
                del self._roles_found[stale]
        return account, role

    # shared -----------------------------------------------------------------------------
    async def _role_for(self, role_arn: str) -> Doc | None:
        try:
            parsed = names.parse_iam_arn(role_arn, "role")
        except IamInvalidInput:
            return None
        role = await self._roles.find(parsed.account, parsed.name)
        if role is None or str(role["Arn"]).casefold() != role_arn.casefold():
            return None
        return role

    async def _issue_for_role(
        self, account: str, role: Doc, session_name: str, duration: float
    ) -> SessionCredentials:
        role_name = str(role["RoleName"])
        return await self._issue(
            account,
            names.assumed_role_arn(account, role_name, session_name),
            f"{role['RoleId']}:{session_name}",
            duration,
        )

    async def _issue(
        self,
        account: str,
        principal_arn: str,
        user_id: str,
        duration: float,
        *,
        persist: bool = True,
    ) -> SessionCredentials:
        """`persist=False`: kept in memory only (CredentialStore.remember)."""
        await self.purge_expired()
        expires = float(int(self._clock.time() + duration))
        cred = Credential(
            access_key=new_access_key(SESSION_KEY_PREFIX),
            secret=new_secret(),
            account_id=account,
            principal_arn=principal_arn,
            user_id=user_id,
            session_token=new_session_token(),
            expires_at=expires,
        )
        if persist:
            await self._credentials.save(cred)
        else:
            self._credentials.remember(cred)
        assert cred.session_token is not None
        return SessionCredentials(
            cred.access_key, cred.secret, cred.session_token, expires, user_id, principal_arn
        )

    async def purge_expired(self, *, force: bool = False) -> int:
        """Delete expired session keys if the last sweep is `purge_interval_s` old."""
        now = self._clock.monotonic()
        with self._lock:
            due = (
                force or self._last_purge is None or now - self._last_purge >= self._purge_interval
            )
            if not due:
                return 0
            self._last_purge = now
        return await self._credentials.purge_expired()
