"""Accounts, access keys and temporary credentials, and the lookup SigV4 verification uses.

Access key ids are unique across accounts, so keys live in one namespace (account "_") and
each key document names its account and principal. Lookups are cached; anything that
deletes or deactivates a key calls `forget`.
"""

from __future__ import annotations

import os
import secrets
import string
import threading
from dataclasses import dataclass
from pathlib import Path

from lambent.clock import Clock
from lambent.store.interface import Store

KEY_KIND = "access_key"
ACCOUNT_KIND = "account"
GLOBAL = "_"

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


@dataclass(frozen=True)
class Credential:
    access_key: str
    secret: str
    account_id: str
    principal_arn: str
    user_id: str
    session_token: str | None = None
    expires_at: float | None = None
    status: str = "Active"


def new_access_key(prefix: str = "AKIA") -> str:
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def new_account_id() -> str:
    return str(secrets.randbelow(9 * 10**11) + 10**11)


def new_unique_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(17))


class CredentialStore:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._cache: dict[str, Credential] = {}
        # Keys that live in memory only (execution environments' sessions): see remember().
        self._ephemeral: dict[str, Credential] = {}
        self._lock = threading.Lock()

    async def lookup(self, access_key: str, *, include_expired: bool = False) -> Credential | None:
        cred = self._ephemeral.get(access_key) or self._cache.get(access_key)
        if cred is None:
            doc = await self._store.get(KEY_KIND, GLOBAL, access_key)
            if doc is None:
                return None
            cred = Credential(
                access_key=access_key,
                secret=doc["secret"],
                account_id=doc["account_id"],
                principal_arn=doc["principal_arn"],
                user_id=str(doc.get("user_id") or doc["account_id"]),
                session_token=doc.get("session_token"),
                expires_at=doc.get("expires_at"),
                status=doc.get("status", "Active"),
            )
            with self._lock:
                self._cache[access_key] = cred
        if (
            not include_expired
            and cred.expires_at is not None
            and cred.expires_at < self._clock.time()
        ):
            return None
        return cred

    async def save(self, cred: Credential, *, user_name: str | None = None) -> None:
        doc = {
            "secret": cred.secret,
            "account_id": cred.account_id,
            "principal_arn": cred.principal_arn,
            "user_id": cred.user_id,
            "session_token": cred.session_token,
            "expires_at": cred.expires_at,
            "status": cred.status,
            "user_name": user_name,
            "created": self._clock.time(),
        }
        await self._store.put(KEY_KIND, GLOBAL, cred.access_key, doc, parent=cred.account_id)
        self.forget(cred.access_key)

    async def delete(self, access_key: str) -> bool:
        gone = await self._store.delete(KEY_KIND, GLOBAL, access_key)
        self.forget(access_key)
        return gone

    def forget(self, access_key: str) -> None:
        with self._lock:
            self._cache.pop(access_key, None)
            self._ephemeral.pop(access_key, None)

    def remember(self, cred: Credential) -> None:
        """A key that lives in memory only, until it expires (or the server stops): an
        execution environment's session, which cannot outlive the server either. Its
        secret is never written anywhere."""
        with self._lock:
            self._ephemeral[cred.access_key] = cred

    async def purge_expired(self) -> int:
        now = self._clock.time()
        with self._lock:
            for key in [k for k, c in self._ephemeral.items() if (c.expires_at or now) < now]:
                del self._ephemeral[key]
        doomed = [
            row.key
            for _, row in await self._store.scan(KEY_KIND)
            if row.doc.get("expires_at") is not None and row.doc["expires_at"] < now
        ]
        for key in doomed:
            await self.delete(key)
        return len(doomed)

    # accounts --------------------------------------------------------------------------
    async def accounts(self) -> list[str]:
        return [row.key for row in await self._store.list(ACCOUNT_KIND, GLOBAL)]

    async def create_account(self, account_id: str | None = None) -> tuple[str, Credential]:
        """A new account with a root key pair."""
        account = account_id or new_account_id()
        async with self._store.transaction():
            await self._store.put(ACCOUNT_KIND, GLOBAL, account, {"created": self._clock.time()})
            cred = Credential(
                access_key=new_access_key(),
                secret=new_secret(),
                account_id=account,
                principal_arn=f"arn:aws:iam::{account}:root",
                user_id=account,
            )
            await self.save(cred)
        return account, cred

    async def ensure_account(self, account_id: str) -> None:
        await self._store.insert(ACCOUNT_KIND, GLOBAL, account_id, {"created": self._clock.time()})


def write_credentials_file(path: Path, cred: Credential, profile: str = "default") -> None:
    """The aws CLI's credentials-file format, mode 600."""
    text = (
        f"[{profile}]\n"
        f"aws_access_key_id = {cred.access_key}\n"
        f"aws_secret_access_key = {cred.secret}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def write_config_file(path: Path, region: str, endpoint: str, profile: str = "default") -> None:
    section = "default" if profile == "default" else f"profile {profile}"
    text = f"[{section}]\nregion = {region}\n# Lambent endpoint: {endpoint}\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
