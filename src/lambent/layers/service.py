"""PublishLayerVersion and friends, with Lambda's numbering, filters and messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambent.clock import Clock
from lambent.errors import InvalidParameterValue, ResourceNotFound
from lambent.functions import arns, config, pagination
from lambent.functions.code_url import CodeUrlSigner
from lambent.functions.lookup import Scope
from lambent.functions.uploads import ZipUploads, names_s3
from lambent.layers.repository import LayerRepository
from lambent.store.interface import Doc

NOT_FOUND = "The resource you requested does not exist."


@dataclass(frozen=True)
class ResolvedLayer:
    """A layer version a function references: what FunctionVersion.layers needs."""

    arn: str
    sha256_hex: str
    size: int

    def as_doc(self) -> dict[str, Any]:
        return {"arn": self.arn, "sha256_hex": self.sha256_hex, "size": self.size}


class LayerService:
    def __init__(
        self, repo: LayerRepository, uploads: ZipUploads, signer: CodeUrlSigner, clock: Clock
    ) -> None:
        self._repo = repo
        self._uploads = uploads
        self._signer = signer
        self._clock = clock

    def _where(self, scope: Scope, layer_name: str) -> tuple[str, str, str]:
        ref = arns.parse_layer(layer_name)
        return ref.account or scope.account, ref.region or scope.region, ref.name

    async def publish(self, scope: Scope, params: dict[str, Any]) -> Doc:
        account, region, name = self._where(scope, params["LayerName"])
        content = params.get("Content") or {}
        from_s3 = names_s3(content)
        if content.get("ZipFile") is None and not from_s3:
            raise InvalidParameterValue("Missing Content")
        if account != scope.account or region != scope.region:
            raise ResourceNotFound(NOT_FOUND)
        if from_s3:
            data = await self._uploads.from_s3(scope.account, scope.region, content)
        else:
            data = bytes(content["ZipFile"])
        blob = await self._uploads.store(data, "PublishLayerVersion", from_s3=from_s3)
        async with self._repo.store.transaction():
            layer = await self._repo.layer(account, region, name)
            if layer is None:
                layer = {"region": region, "arn": arns.layer_arn(region, account, name), "next": 1}
            number = int(layer["next"])
            layer["next"] = number + 1
            await self._repo.put_layer(account, region, name, layer)
            doc: Doc = {
                "Content": {"CodeSha256": blob.code_sha256, "CodeSize": blob.size},
                "LayerArn": layer["arn"],
                "LayerVersionArn": arns.layer_version_arn(region, account, name, number),
                "Description": params.get("Description", ""),
                "CreatedDate": config.timestamp(self._clock.time()),
                "Version": number,
                "_sha256_hex": blob.sha256_hex,
            }
            for key in ("CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures"):
                if params.get(key) is not None:
                    doc[key] = params[key]
            await self._repo.put_version(account, region, name, number, doc)
        return await self._out(doc, name)

    async def _out(self, doc: Doc, name: str) -> Doc:
        out = {k: v for k, v in doc.items() if not k.startswith("_")}
        out["Content"] = {
            **doc["Content"],
            "Location": await self._signer.url(str(doc["_sha256_hex"]), f"{name}.zip"),
        }
        return out

    async def _version(self, scope: Scope, layer_name: str, number: int) -> tuple[str, Doc]:
        if number < 1:
            raise InvalidParameterValue("Layer Version Cannot be less than 1")
        account, region, name = self._where(scope, layer_name)
        doc = None
        if account == scope.account and region == scope.region:
            doc = await self._repo.version(account, region, name, number)
        if doc is None:
            raise ResourceNotFound(NOT_FOUND)
        return name, doc

    async def get(self, scope: Scope, layer_name: str, number: int) -> Doc:
        name, doc = await self._version(scope, layer_name, number)
        return await self._out(doc, name)

    @property
    def repo(self) -> LayerRepository:
        return self._repo

    async def version_doc(self, scope: Scope, layer_name: str, number: int) -> tuple[str, Doc]:
        """The stored document of a layer version in the caller's account (or NotFound)."""
        return await self._version(scope, layer_name, number)

    async def get_by_arn(self, scope: Scope, arn: str) -> Doc:
        ref = arns.parse_layer(arn)
        if ref.version is None:
            raise ResourceNotFound(NOT_FOUND)
        return await self.get(scope, arn.rsplit(":", 1)[0], ref.version)

    async def delete(self, scope: Scope, layer_name: str, number: int) -> None:
        """Idempotent, as Lambda's: deleting a missing version succeeds."""
        if number < 1:
            raise InvalidParameterValue("Layer Version Cannot be less than 1")
        account, region, name = self._where(scope, layer_name)
        if account == scope.account:
            await self._repo.delete_version(account, region, name, number)

    async def list_versions(self, scope: Scope, params: dict[str, Any]) -> Doc:
        account, region, name = self._where(scope, params["LayerName"])
        layer = await self._repo.layer(account, region, name) if account == scope.account else None
        items: list[Doc] = []
        if layer is not None:
            items = [
                doc
                for doc in await self._repo.versions(account, region, name)
                if _matches(
                    doc, params.get("CompatibleRuntime"), params.get("CompatibleArchitecture")
                )
            ]
        chunk, marker = pagination.page(  # newest first, as Lambda lists them
            items, lambda d: (-int(d["Version"]),), params.get("Marker"), params.get("MaxItems")
        )
        out: Doc = {"LayerVersions": [_list_item(d) for d in chunk]}
        if marker:
            out["NextMarker"] = marker
        return out

    async def list_layers(self, scope: Scope, params: dict[str, Any]) -> Doc:
        runtime = params.get("CompatibleRuntime")
        arch = params.get("CompatibleArchitecture")
        found: list[Doc] = []
        for name, layer in await self._repo.layers(scope.account, scope.region):
            matching = [
                d
                for d in await self._repo.versions(scope.account, scope.region, name)
                if _matches(d, runtime, arch)
            ]
            if matching:
                latest = max(matching, key=lambda d: int(d["Version"]))
                found.append(
                    {
                        "LayerName": name,
                        "LayerArn": layer["arn"],
                        "LatestMatchingVersion": _list_item(latest),
                    }
                )
        chunk, marker = pagination.page(
            found, lambda d: (str(d["LayerName"]),), params.get("Marker"), params.get("MaxItems")
        )
        out: Doc = {"Layers": chunk}
        if marker:
            out["NextMarker"] = marker
        return out

    async def resolve(self, scope: Scope, layer_arns: list[str]) -> list[ResolvedLayer]:
        """The layers a function references, checked as CreateFunction checks them."""
        if len(layer_arns) > config.MAX_LAYERS:
            raise InvalidParameterValue(f"Cannot reference more than {config.MAX_LAYERS} layers.")
        seen: dict[str, str] = {}
        out: list[ResolvedLayer] = []
        for arn in layer_arns:
            ref = arns.parse_layer(arn)
            base = arn.rsplit(":", 1)[0]
            if base in seen:
                raise InvalidParameterValue(
                    "Two different versions of the same layer are not allowed to be referenced "
                    f"in the same function. {seen[base]} and {arn} are versions of the same layer."
                )
            seen[base] = arn
            if ref.region is not None and ref.region != scope.region:
                raise InvalidParameterValue(
                    "Layers are not in the same region as the function. "
                    f"Layers are expected to be in region {scope.region}."
                )
            doc = None
            if ref.version is not None and ref.account == scope.account:
                doc = await self._repo.version(scope.account, scope.region, ref.name, ref.version)
            if doc is None:
                raise InvalidParameterValue(f"Layer version {arn} does not exist.")
            out.append(ResolvedLayer(arn, str(doc["_sha256_hex"]), int(doc["Content"]["CodeSize"])))
        return out


def _matches(doc: Doc, runtime: str | None, arch: str | None) -> bool:
    if runtime and runtime not in (doc.get("CompatibleRuntimes") or []):
        return False
    return not (arch and arch not in (doc.get("CompatibleArchitectures") or []))


def _list_item(doc: Doc) -> Doc:
    item: Doc = {
        "LayerVersionArn": doc["LayerVersionArn"],
        "Version": doc["Version"],
        "CreatedDate": doc["CreatedDate"],
    }
    if doc.get("Description"):
        item["Description"] = doc["Description"]
    for key in ("CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures"):
        if doc.get(key) is not None:
            item[key] = doc[key]
    return item
