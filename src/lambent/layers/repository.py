"""Where layers live in the store. Layers are regional: the same name in two regions is
two layers, each numbered from 1.

- lambda_layer, key "REGION:NAME": {"region", "arn", "next"} (numbers are never reused)
- lambda_layer_version, key "REGION:NAME:00000003", parent "REGION:NAME": the
  GetLayerVersion output shape without Content.Location (signed per request), plus
  "_sha256_hex" for the blob.

Data written before layers were regional is keyed by NAME alone (and "NAME:00000003");
it is read as the layer of the region its document names, and new versions of it go
under the regional keys.
"""

from __future__ import annotations

from lambent.store.interface import Doc, Store

LAYER = "lambda_layer"
LAYER_VERSION = "lambda_layer_version"


def layer_key(region: str, name: str) -> str:
    return f"{region}:{name}"


def version_key(parent: str, version: int) -> str:
    return f"{parent}:{version:08d}"


class LayerRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def layer(self, account: str, region: str, name: str) -> Doc | None:
        doc = await self.store.get(LAYER, account, layer_key(region, name))
        if doc is None:
            legacy = await self.store.get(LAYER, account, name)
            return legacy if legacy is not None and legacy["region"] == region else None
        return doc

    async def put_layer(self, account: str, region: str, name: str, doc: Doc) -> None:
        await self.store.put(LAYER, account, layer_key(region, name), doc)

    async def layers(self, account: str, region: str | None = None) -> list[tuple[str, Doc]]:
        """(name, layer) of the account's layers in `region` (None: every region), by name."""
        found: dict[tuple[str, str], Doc] = {}
        for row in await self.store.list(LAYER, account):
            name = row.key.rsplit(":", 1)[-1]
            if region is None or row.doc["region"] == region:
                found.setdefault((str(row.doc["region"]), name), row.doc)
        return [(name, doc) for (_, name), doc in sorted(found.items(), key=lambda i: i[0][1])]

    async def version(self, account: str, region: str, name: str, version: int) -> Doc | None:
        doc = await self.store.get(
            LAYER_VERSION, account, version_key(layer_key(region, name), version)
        )
        if doc is None:
            legacy = await self.store.get(LAYER_VERSION, account, version_key(name, version))
            if legacy is not None and f":{region}:" in str(legacy["LayerArn"]):
                return legacy
        return doc

    async def put_version(
        self, account: str, region: str, name: str, version: int, doc: Doc
    ) -> None:
        parent = layer_key(region, name)
        if await self.store.get(LAYER_VERSION, account, version_key(name, version)) is not None:
            parent = name  # a version written before layers were regional stays where it is
        await self.store.put(
            LAYER_VERSION, account, version_key(parent, version), doc, parent=parent
        )

    async def delete_version(self, account: str, region: str, name: str, version: int) -> bool:
        regional = version_key(layer_key(region, name), version)
        if await self.store.delete(LAYER_VERSION, account, regional):
            return True
        legacy = await self.version(account, region, name, version)
        return legacy is not None and await self.store.delete(
            LAYER_VERSION, account, version_key(name, version)
        )

    async def versions(self, account: str, region: str, name: str) -> list[Doc]:
        rows = await self.store.list(LAYER_VERSION, account, parent=layer_key(region, name))
        legacy = await self.store.list(LAYER_VERSION, account, parent=name)
        return [row.doc for row in rows] + [
            row.doc for row in legacy if f":{region}:" in str(row.doc["LayerArn"])
        ]
