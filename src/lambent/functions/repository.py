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
"layers": [{"arn", "sha256_hex", "size"}]}. With a Sealer, a stored configuration's
`Environment.Variables` is sealed (`sealed_env.py`): sealed on every write here, opened on
every read here, so nothing else sees the sealed form.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from lambent.auth.sealing import Sealer
from lambent.functions import sealed_env
from lambent.functions.config import publish_mark
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

    def __init__(self, store: Store, sealer: Sealer | None = None) -> None:
        self.store = store
        self._sealer = sealer

    # environment variables at rest ---------------------------------------------------
    def _sealed_function(self, account: str, name: str, doc: Doc) -> Doc:
        if self._sealer is None:
            return doc
        sealed = dict(doc, latest=self._sealed_version(account, name, doc["latest"]))
        return sealed

    def _sealed_version(self, account: str, name: str, doc: Doc) -> Doc:
        if self._sealer is None or not sealed_env.has_plain_variables(doc["config"]):
            return doc
        config = dict(doc["config"], Environment=dict(doc["config"]["Environment"]))
        sealed_env.seal_config(config, self._sealer, account, name)
        return dict(doc, config=config)

    def _opened_function(self, account: str, name: str, doc: Doc | None) -> Doc | None:
        if doc is not None:
            self._open_version(account, name, doc["latest"])
        return doc

    def _open_version(self, account: str, name: str, doc: Doc) -> Doc:
        if self._sealer is not None:
            sealed_env.open_config(doc["config"], self._sealer, account, name)
        return doc

    async def seal_environments(self) -> int:
        """Seal variables that a data dir from before sealing keeps in the clear; how many
        documents were rewritten (each write seals)."""
        if self._sealer is None:
            return 0
        count = 0
        for account, row in await self.store.scan(FUNCTION):
            last = row.doc.get("last_published") or {}
            mark = last.get("mark")
            digested = isinstance(mark, str) and publish_mark(mark) != mark
            if digested:
                last["mark"] = publish_mark(str(mark))
            if sealed_env.has_plain_variables(row.doc["latest"]["config"]) or digested:
                await self.put_function(account, row.key, row.doc)
                count += 1
        for account, row in await self.store.scan(VERSION):
            if sealed_env.has_plain_variables(row.doc["config"]):
                name = row.doc["config"]["FunctionName"]
                await self.store.put(
                    VERSION,
                    account,
                    row.key,
                    self._sealed_version(account, name, row.doc),
                    parent=name,
                )
                count += 1
        return count

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return self.store.transaction()

    # functions -----------------------------------------------------------------------
    async def function(self, account: str, name: str) -> Doc | None:
        return self._opened_function(account, name, await self.store.get(FUNCTION, account, name))

    async def put_function(self, account: str, name: str, doc: Doc) -> None:
        await self.store.put(FUNCTION, account, name, self._sealed_function(account, name, doc))

    async def insert_function(self, account: str, name: str, doc: Doc) -> bool:
        sealed = self._sealed_function(account, name, doc)
        return await self.store.insert(FUNCTION, account, name, sealed)

    async def functions(
        self, account: str, *, after: str | None = None, limit: int | None = None
    ) -> list[Row]:
        rows = await self.store.list(FUNCTION, account, after=after, limit=limit)
        for row in rows:
            self._opened_function(account, row.key, row.doc)
        return rows

    async def all_functions(self) -> list[tuple[str, Row]]:
        rows = await self.store.scan(FUNCTION)
        for account, row in rows:
            self._opened_function(account, row.key, row.doc)
        return rows

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
        doc = await self.store.get(VERSION, account, version_key(name, version))
        return None if doc is None else self._open_version(account, name, doc)

    async def put_version(self, account: str, name: str, version: str, doc: Doc) -> None:
        sealed = self._sealed_version(account, name, doc)
        await self.store.put(VERSION, account, version_key(name, version), sealed, parent=name)

    async def delete_version(self, account: str, name: str, version: str) -> bool:
        return await self.store.delete(VERSION, account, version_key(name, version))

    async def versions(self, account: str, name: str) -> list[Doc]:
        rows = await self.store.list(VERSION, account, parent=name)
        return [self._open_version(account, name, row.doc) for row in rows]

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
