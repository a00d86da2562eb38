"""Where layers live in the store.

- lambda_layer, key NAME: {"region", "arn", "next_version"} (numbers are never reused)
- lambda_layer_version, key "NAME:00000003", parent NAME: the GetLayerVersion output shape
  without Content.Location (signed per request), plus "_sha256_hex" for the blob.
"""

from __future__ import annotations

from lambent.store.interface import Doc, Store

LAYER = "lambda_layer"
LAYER_VERSION = "lambda_layer_version"


def version_key(name: str, version: int) -> str:
    return f"{name}:{version:08d}"


class LayerRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def layer(self, account: str, name: str) -> Doc | None:
        return await self.store.get(LAYER, account, name)

    async def put_layer(self, account: str, name: str, doc: Doc) -> None:
        await self.store.put(LAYER, account, name, doc)

    async def layers(self, account: str) -> list[tuple[str, Doc]]:
        return [(row.key, row.doc) for row in await self.store.list(LAYER, account)]

    async def version(self, account: str, name: str, version: int) -> Doc | None:
        return await self.store.get(LAYER_VERSION, account, version_key(name, version))

    async def put_version(self, account: str, name: str, version: int, doc: Doc) -> None:
        await self.store.put(LAYER_VERSION, account, version_key(name, version), doc, parent=name)

    async def delete_version(self, account: str, name: str, version: int) -> bool:
        return await self.store.delete(LAYER_VERSION, account, version_key(name, version))

    async def versions(self, account: str, name: str) -> list[Doc]:
        return [row.doc for row in await self.store.list(LAYER_VERSION, account, parent=name)]
