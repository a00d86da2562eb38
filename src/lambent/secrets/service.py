"""Secrets: create, read, version, list, delete and restore, over the document store.

One document per secret (kind `secret`, keyed by name in its account) holds its metadata
and its versions; every change is one read-modify-write in a store transaction, so two
writers never lose each other's version. Values are sealed (auth/sealing.py) with the
secret's ARN and version id as associated data: the database never holds one in the
clear, and a sealed value copied onto another secret or version does not open.

Deletion is AWS's: scheduled `RecoveryWindowInDays` (7-30, default 30) ahead, during which
the secret refuses reads and writes but can be restored; or at once with
ForceDeleteWithoutRecovery. A secret whose deletion date has passed is purged the next
time anything looks it up (lazily; no background job is needed for that).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

from lambent.auth.sealing import Sealer
from lambent.clock import Clock
from lambent.secrets import names, versions
from lambent.secrets.errors import (
    SecretExists,
    SecretInvalidParameter,
    SecretInvalidRequest,
    SecretNotFound,
    marked_for_deletion,
)
from lambent.store.interface import Doc, Store

KIND = "secret"
DAY = 86400.0
DEFAULT_WINDOW_DAYS = 30
VALUE_NOT_FOUND = "Secrets Manager can't find the specified secret value for "
Value = str | bytes


@dataclass(frozen=True)
class SecretValue:
    doc: Doc
    version_id: str
    stages: list[str]
    created: float
    value: Value


def _check_value(string: str | None, binary: bytes | None) -> Value | None:
    if string is not None and binary is not None:
        raise SecretInvalidParameter(
            "You can't specify both a binary secret value and a string secret value in the "
            "same secret."
        )
    return string if string is not None else binary


class Secrets:
    def __init__(self, store: Store, sealer: Sealer, clock: Clock) -> None:
        self._store = store
        self._sealer = sealer
        self._clock = clock

    # -- sealing -----------------------------------------------------------------------
    def _seal(self, arn: str, vid: str, value: Value) -> str:
        text = "s:" + value if isinstance(value, str) else "b:" + base64.b64encode(value).decode()
        return self._sealer.seal(text, f"secretsmanager:{arn}:{vid}")

    def _open(self, arn: str, vid: str, sealed: str) -> Value:
        text = self._sealer.open(sealed, f"secretsmanager:{arn}:{vid}")
        return text[2:] if text.startswith("s:") else base64.b64decode(text[2:])

    # -- lookup ------------------------------------------------------------------------
    async def _find(self, account: str, secret_id: str) -> Doc | None:
        _, candidates = names.candidates(secret_id)
        by_arn = secret_id.startswith("arn:")
        for name in candidates:
            doc = await self._store.get(KIND, account, name)
            if doc is None or (by_arn and secret_id not in (doc["arn"], doc["arn"][:-7])):
                continue
            deletion = doc.get("deletion_date")
            if deletion is not None and self._clock.time() >= deletion:
                await self._store.delete(KIND, account, name)  # its recovery window ended
                return None
            return doc
        return None

    async def _existing(self, account: str, secret_id: str) -> Doc:
        doc = await self._find(account, secret_id)
        if doc is None:
            raise SecretNotFound()
        return doc

    async def _live(self, account: str, secret_id: str) -> Doc:
        doc = await self._existing(account, secret_id)
        if doc.get("deletion_date") is not None:
            raise marked_for_deletion()
        return doc

    # -- operations --------------------------------------------------------------------
    async def create(
        self,
        account: str,
        region: str,
        name: str,
        *,
        token: str | None,
        string: str | None = None,
        binary: bytes | None = None,
        description: str | None = None,
        kms_key_id: str | None = None,
        tags: list[dict[str, str]] | None = None,
    ) -> tuple[Doc, str | None]:
        """The new secret and its first version's id (None when created without a value)."""
        names.check_name(name)
        value = _check_value(string, binary)
        vid = token or str(uuid.uuid4())
        async with self._store.transaction():
            existing = await self._find(account, name)
            if existing is not None:
                return self._create_again(existing, vid, value)
            now = self._clock.time()
            doc: Doc = {
                "name": name,
                "arn": names.new_arn(region, account, name),
                "description": description,
                "kms_key_id": kms_key_id,
                "created": now,
                "changed": now,
                "accessed": None,
                "deletion_date": None,
                "tags": list(tags or []),
                "versions": {},
            }
            if value is not None:
                self._add_version(doc, vid, value, [versions.CURRENT], now)
            await self._store.put(KIND, account, name, doc)
        return doc, (vid if value is not None else None)

    def _create_again(self, doc: Doc, vid: str, value: Value | None) -> tuple[Doc, str | None]:
        """A retried CreateSecret (the same token and value) succeeds again, as AWS's."""
        if doc.get("deletion_date") is not None:
            raise SecretInvalidRequest(
                "You can't create this secret because a secret with this name is already "
                "scheduled for deletion."
            )
        version = doc["versions"].get(vid)
        if version is not None and value == self._open(doc["arn"], vid, version["value"]):
            return doc, vid
        raise SecretExists(f"The operation failed because the secret {doc['name']} already exists.")

    def _add_version(self, doc: Doc, vid: str, value: Value, stages: list[str], now: float) -> None:
        sealed = self._seal(doc["arn"], vid, value)
        versions.stage(doc["versions"], vid, {"created": now, "value": sealed}, stages)
        doc["changed"] = now

    async def put_value(
        self,
        account: str,
        secret_id: str,
        *,
        token: str | None,
        string: str | None = None,
        binary: bytes | None = None,
        stages: list[str] | None = None,
    ) -> tuple[Doc, str, list[str]]:
        value = _check_value(string, binary)
        if value is None:
            raise SecretInvalidRequest("You must provide either SecretString or SecretBinary.")
        vid = token or str(uuid.uuid4())
        labels = list(stages) if stages else [versions.CURRENT]
        async with self._store.transaction():
            doc = await self._live(account, secret_id)
            existing = doc["versions"].get(vid)
            if existing is not None:
                if value != self._open(doc["arn"], vid, existing["value"]):
                    raise SecretExists(
                        "You can't modify an existing version, you can only create a new version."
                    )
                return doc, vid, list(existing["stages"])
            self._add_version(doc, vid, value, labels, self._clock.time())
            await self._store.put(KIND, account, doc["name"], doc)
        return doc, vid, labels

    async def get_value(
        self, account: str, secret_id: str, version_id: str | None, stage: str | None
    ) -> SecretValue:
        doc = await self._live(account, secret_id)
        vid = version_id or versions.holder(doc["versions"], stage or versions.CURRENT)
        version = doc["versions"].get(vid) if vid is not None else None
        if version is None or (stage is not None and stage not in version["stages"]):
            what = f"VersionId: {version_id}" if version_id else f"staging label: {stage}"
            if not version_id and stage is None:
                what = f"staging label: {versions.CURRENT}"
            raise SecretNotFound(
                f"Secrets Manager can't find the specified secret value for {what}"
            )
        assert vid is not None
        value = self._open(doc["arn"], vid, version["value"])
        await self._accessed(account, doc)
        return SecretValue(doc, vid, list(version["stages"]), version["created"], value)

    async def _accessed(self, account: str, doc: Doc) -> None:
        """LastAccessedDate is a day (AWS rounds it to midnight UTC): write once a day."""
        today = self._clock.time() // DAY * DAY
        if doc.get("accessed") == today:
            return
        async with self._store.transaction():
            fresh = await self._store.get(KIND, account, doc["name"])
            if fresh is not None and fresh["arn"] == doc["arn"]:
                fresh["accessed"] = today
                await self._store.put(KIND, account, doc["name"], fresh)

    async def exists(self, account: str, secret_id: str) -> bool:
        """Is there such a secret (a mapping's BASIC_AUTH names one)?"""
        return await self._find(account, secret_id) is not None

    async def describe(self, account: str, secret_id: str) -> Doc:
        return await self._existing(account, secret_id)

    async def list(self, account: str, include_deleted: bool) -> list[Doc]:
        now = self._clock.time()
        out = []
        for row in await self._store.list(KIND, account):
            deletion = row.doc.get("deletion_date")
            if deletion is not None and (now >= deletion or not include_deleted):
                continue
            out.append(row.doc)
        return out

    async def delete(
        self, account: str, secret_id: str, window_days: int | None, force: bool
    ) -> tuple[Doc, float]:
        """The secret and its deletion date (now when forced)."""
        if force and window_days is not None:
            raise SecretInvalidParameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
            )
        days = DEFAULT_WINDOW_DAYS if window_days is None else window_days
        if not force and not 7 <= days <= 30:
            raise SecretInvalidParameter(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
            )
        async with self._store.transaction():
            doc = await self._existing(account, secret_id)
            now = self._clock.time()
            if force:
                await self._store.delete(KIND, account, doc["name"])
                return doc, now
            if doc.get("deletion_date") is not None:
                raise SecretInvalidRequest(
                    "You can't perform this operation on the secret because it was already "
                    "scheduled for deletion."
                )
            doc["deletion_date"] = now + days * DAY
            await self._store.put(KIND, account, doc["name"], doc)
        return doc, float(doc["deletion_date"])

    async def restore(self, account: str, secret_id: str) -> Doc:
        async with self._store.transaction():
            doc = await self._existing(account, secret_id)
            if doc.get("deletion_date") is not None:
                doc["deletion_date"] = None
                doc["changed"] = self._clock.time()
                await self._store.put(KIND, account, doc["name"], doc)
        return doc


def version_stages(doc: Doc) -> dict[str, list[str]]:
    return versions.to_stages(doc["versions"])


def public(doc: Doc) -> dict[str, Any]:
    """What DescribeSecret and ListSecrets show of a secret (never a value)."""
    out: dict[str, Any] = {
        "ARN": doc["arn"],
        "Name": doc["name"],
        "Description": doc.get("description"),
        "KmsKeyId": doc.get("kms_key_id"),
        "RotationEnabled": False,
        "LastChangedDate": doc["changed"],
        "LastAccessedDate": doc.get("accessed"),
        "DeletedDate": doc.get("deletion_date"),
        "Tags": doc.get("tags") or None,
        "CreatedDate": doc["created"],
    }
    return {k: v for k, v in out.items() if v is not None}
