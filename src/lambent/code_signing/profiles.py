"""Signing profiles the operator registers: a name and a public key per account.

AWS Signer's signing profiles hold the publisher's certificate; Lambent keeps only what a
check needs, the public key, under a profile version ARN shaped like Signer's
(`arn:aws:signer:<region>:<account>:/signing-profiles/<name>/<version>`, the version
derived from the key), which a code signing config's AllowedPublishers names.
`lambent signing-profiles add NAME --public-key key.pem` writes one into the data dir's
store (kind `signer_profile`, key the name; registering a new key for a name makes a new
version and keeps the old ones, as Signer keeps a profile's versions).
"""

from __future__ import annotations

from lambent.code_signing import signatures
from lambent.functions import arns
from lambent.store.interface import Doc, Store

KIND = "signer_profile"


def version_arn(region: str, account: str, name: str, version: str) -> str:
    return (
        f"arn:{arns.partition(region)}:signer:{region}:{account}:/signing-profiles/{name}/{version}"
    )


class SigningProfiles:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def add(self, account: str, region: str, name: str, public_pem: str) -> str:
        """Register (or add a version to) a profile; its version ARN."""
        version = signatures.public_key_id(public_pem)
        arn = version_arn(region, account, name, version)
        async with self._store.transaction():
            doc: Doc = await self._store.get(KIND, account, name) or {"versions": {}}
            doc["versions"][arn] = public_pem
            await self._store.put(KIND, account, name, doc)
        return arn

    async def public_keys(self, account: str, version_arns: list[str]) -> dict[str, str]:
        """The public key of each of these profile versions the account registered."""
        wanted = set(version_arns)
        found: dict[str, str] = {}
        for row in await self._store.list(KIND, account):
            for arn, pem in row.doc.get("versions", {}).items():
                if arn in wanted:
                    found[arn] = str(pem)
        return found

    async def list(self, account: str) -> list[tuple[str, str]]:
        """(name, version ARN) of every registered version."""
        return [
            (row.key, arn)
            for row in await self._store.list(KIND, account)
            for arn in row.doc.get("versions", {})
        ]
