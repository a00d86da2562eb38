"""Accounts, access keys and temporary credentials, and the lookup SigV4 verification uses.

Access key ids are unique across accounts, so keys live in one namespace (account "_") and
each key document names its account and principal. Lookups are cached; anything in this
process that deletes or deactivates a key calls `forget`, and a cached key is read again
after `CACHE_S`, so a key another process deleted (`lambent accounts delete` next to a
running server) stops working within it.

A key document's `secret` and `session_token` are sealed (auth/sealing.py) under the
master key, bound to the access key id: the database holds no secret in the clear.
`seal_plaintext` migrates documents written before sealing existed, at start.
"""

from __future__ import annotations

import os
import secrets
import string
import threading
from dataclasses import dataclass
from pathlib import Path

from lambent.auth.sealing import Sealer, SealError, is_sealed
from lambent.clock import Clock
from lambent.store.interface import Doc, Store

KEY_KIND = "access_key"
ACCOUNT_KIND = "account"
GLOBAL = "_"

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
SEALED_FIELDS = ("secret", "session_token")
CACHE_S = 5.0


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
    def __init__(self, store: Store, clock: Clock, sealer: Sealer) -> None:
        self._store = store
        self._clock = clock
        self._sealer = sealer
        self._cache: dict[str, tuple[float, Credential]] = {}  # (read at, monotonic)
        # Keys that live in memory only (execution environments' sessions): see remember().
        self._ephemeral: dict[str, Credential] = {}
        self._lock = threading.Lock()

    async def lookup(self, access_key: str, *, include_expired: bool = False) -> Credential | None:
        cred = self._ephemeral.get(access_key) or self._cached(access_key)
        if cred is None:
            read_at = self._clock.monotonic()
            doc = await self._store.get(KEY_KIND, GLOBAL, access_key)
            if doc is None:
                self.forget(access_key)
                return None
            cred = self._from_doc(access_key, doc)
            with self._lock:
                self._cache[access_key] = (read_at, cred)
        if (
            not include_expired
            and cred.expires_at is not None
            and cred.expires_at < self._clock.time()
        ):
            return None
        return cred

    def _cached(self, access_key: str) -> Credential | None:
        found = self._cache.get(access_key)
        if found is None or self._clock.monotonic() - found[0] >= CACHE_S:
            return None
        return found[1]

    def _from_doc(self, access_key: str, doc: Doc) -> Credential:
        return Credential(
            access_key=access_key,
            secret=self._open(access_key, "secret", doc["secret"]) or "",
            account_id=doc["account_id"],
            principal_arn=doc["principal_arn"],
            user_id=str(doc.get("user_id") or doc["account_id"]),
            session_token=self._open(access_key, "session_token", doc.get("session_token")),
            expires_at=doc.get("expires_at"),
            status=doc.get("status", "Active"),
        )

    def _seal(self, access_key: str, field: str, value: str | None) -> str | None:
        if value is None:
            return None
        return self._sealer.seal(value, f"{KEY_KIND}/{access_key}/{field}")

    def _open(self, access_key: str, field: str, value: str | None) -> str | None:
        if value is None:
            return None
        if not is_sealed(value):  # written before sealing; migrated at the next start
            return value
        return self._sealer.open(value, f"{KEY_KIND}/{access_key}/{field}")

    async def save(self, cred: Credential, *, user_name: str | None = None) -> None:
        doc = {
            "secret": self._seal(cred.access_key, "secret", cred.secret),
            "account_id": cred.account_id,
            "principal_arn": cred.principal_arn,
            "user_id": cred.user_id,
            "session_token": self._seal(cred.access_key, "session_token", cred.session_token),
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

    async def seal_plaintext(self) -> int:
        """Seal every secret still stored in the clear (a data dir from before sealing);
        how many documents changed. Raises SealError when a sealed secret does not open
        with this master key: serving on would refuse every such key's signature."""
        changed = 0
        for _, row in await self._store.scan(KEY_KIND):
            doc = dict(row.doc)
            try:
                self._from_doc(row.key, doc)
            except SealError as exc:
                raise SealError(
                    f"the master key does not open the secret of access key {row.key} "
                    "(was the data dir started with another --master-key-file?)"
                ) from exc
            clear = [f for f in SEALED_FIELDS if doc.get(f) is not None and not is_sealed(doc[f])]
            if not clear:
                continue
            for field in clear:
                doc[field] = self._seal(row.key, field, doc[field])
            await self._store.put(KEY_KIND, GLOBAL, row.key, doc, parent=str(doc["account_id"]))
            self.forget(row.key)
            changed += 1
        return changed

    # accounts --------------------------------------------------------------------------
    async def accounts(self) -> list[str]:
        return [row.key for row in await self._store.list(ACCOUNT_KIND, GLOBAL)]

    async def default_account(self) -> str | None:
        """The account the server made (or was told to serve, with --auth open) on its
        first start: the one whose root keys are in DATA/credentials."""
        for row in await self._store.list(ACCOUNT_KIND, GLOBAL):
            if row.doc.get("default"):
                return row.key
        return None

    async def create_account(
        self, account_id: str | None = None, *, default: bool = False
    ) -> tuple[str, Credential]:
        """A new account with a root key pair."""
        account = account_id or new_account_id()
        doc = {"created": self._clock.time(), "default": default}
        async with self._store.transaction():
            await self._store.put(ACCOUNT_KIND, GLOBAL, account, doc)
            cred = Credential(
                access_key=new_access_key(),
                secret=new_secret(),
                account_id=account,
                principal_arn=f"arn:aws:iam::{account}:root",
                user_id=account,
            )
            await self.save(cred)
        return account, cred

    async def ensure_account(self, account_id: str, *, default: bool = False) -> None:
        doc = {"created": self._clock.time(), "default": default}
        await self._store.insert(ACCOUNT_KIND, GLOBAL, account_id, doc)


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
    text = f"[{section}]\nregion = {region}\nendpoint_url = {endpoint}\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
