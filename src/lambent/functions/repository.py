"""Where the control plane keeps functions in the store, and the shape of each document.

Kinds (account = the owning account id; children carry the function name as parent):

- lambda_function, key NAME: {"region", "created", "next_version", "tags", "reserved",
  "latest": VersionDoc, "last_published": {"version", "fingerprint", "code"} | None}
- lambda_version, key "NAME:00000007": VersionDoc of a published version
- lambda_alias, key "NAME:ALIAS": AliasConfiguration (+ "_function" for lookups)
- lambda_policy, key "NAME:QUALIFIER" ("" = unqualified): {"Version", "Id", "Statement"}
- lambda_event_invoke, key "NAME:QUALIFIER": FunctionEventInvokeConfig (+ "_epoch")
- lambda_provisioned, key "NAME:QUALIFIER": the provisioned concurrency config
- lambda_secret, account "", key NAME: a signing key stored in the clear before keys were
  derived from the master key; deleted at start (`drop_stored_secrets`)

A VersionDoc is {"config": FunctionConfiguration, "code": {"sha256_hex", "size"},
"layers": [{"arn", "sha256_hex", "size"}]}.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from lambent.functions.model import LATEST
from lambent.store.interface import Doc, Row, Store

FUNCTION = "lambda_function"
VERSION = "lambda_version"
ALIAS = "lambda_alias"
POLICY = "lambda_policy"
EVENT_INVOKE = "lambda_event_invoke"
PROVISIONED = "lambda_provisioned"
SECRET = "lambda_secret"

CHILD_KINDS = (VERSION, ALIAS, POLICY, EVENT_INVOKE, PROVISIONED)


def version_key(name: str, version: str | int) -> str:
    return f"{name}:{int(version):08d}"


def child_key(name: str, qualifier: str) -> str:
    return f"{name}:{qualifier}"


class FunctionRepository:
    """Typed access to the documents above; callers hold `transaction()` for read-modify-write."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return self.store.transaction()

    # functions -----------------------------------------------------------------------
    async def function(self, account: str, name: str) -> Doc | None:
        return await self.store.get(FUNCTION, account, name)

    async def put_function(self, account: str, name: str, doc: Doc) -> None:
        await self.store.put(FUNCTION, account, name, doc)

    async def insert_function(self, account: str, name: str, doc: Doc) -> bool:
        return await self.store.insert(FUNCTION, account, name, doc)

    async def functions(
        self, account: str, *, after: str | None = None, limit: int | None = None
    ) -> list[Row]:
        return await self.store.list(FUNCTION, account, after=after, limit=limit)

    async def all_functions(self) -> list[tuple[str, Row]]:
        return await self.store.scan(FUNCTION)

    async def delete_function(self, account: str, name: str) -> None:
        for kind in CHILD_KINDS:
            await self.store.delete_children(kind, account, name)
        await self.store.delete(FUNCTION, account, name)

    # versions ------------------------------------------------------------------------
    async def version(self, account: str, name: str, version: str) -> Doc | None:
        if version == LATEST:
            fn = await self.function(account, name)
            return None if fn is None else dict(fn["latest"])
        if not version.isdigit():
            return None
        return await self.store.get(VERSION, account, version_key(name, version))

    async def put_version(self, account: str, name: str, version: str, doc: Doc) -> None:
        await self.store.put(VERSION, account, version_key(name, version), doc, parent=name)

    async def delete_version(self, account: str, name: str, version: str) -> bool:
        return await self.store.delete(VERSION, account, version_key(name, version))

    async def versions(self, account: str, name: str) -> list[Doc]:
        return [row.doc for row in await self.store.list(VERSION, account, parent=name)]

    # aliases, policies, invoke configs, provisioned concurrency ----------------------
    async def child(self, kind: str, account: str, name: str, qualifier: str) -> Doc | None:
        return await self.store.get(kind, account, child_key(name, qualifier))

    async def put_child(self, kind: str, account: str, name: str, qualifier: str, doc: Doc) -> None:
        await self.store.put(kind, account, child_key(name, qualifier), doc, parent=name)

    async def insert_child(
        self, kind: str, account: str, name: str, qualifier: str, doc: Doc
    ) -> bool:
        return await self.store.insert(kind, account, child_key(name, qualifier), doc, parent=name)

    async def delete_child(self, kind: str, account: str, name: str, qualifier: str) -> bool:
        return await self.store.delete(kind, account, child_key(name, qualifier))

    async def children(self, kind: str, account: str, name: str) -> list[Row]:
        """(qualifier, doc) rows of one function, the key stripped to the qualifier."""
        prefix = len(name) + 1
        rows = await self.store.list(kind, account, parent=name)
        return [Row(r.key[prefix:], r.doc) for r in rows]

    async def scan(self, kind: str) -> list[tuple[str, Row]]:
        return await self.store.scan(kind)

    # secrets -------------------------------------------------------------------------
    async def drop_stored_secrets(self) -> int:
        """Delete signing keys that older versions kept in the store in the clear."""
        rows = await self.store.list(SECRET, "")
        for row in rows:
            await self.store.delete(SECRET, "", row.key)
        return len(rows)


def latest_config(fn: Doc) -> dict[str, Any]:
    config: dict[str, Any] = fn["latest"]["config"]
    return config
