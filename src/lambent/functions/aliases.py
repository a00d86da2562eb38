"""Aliases: named pointers at a version, optionally splitting traffic with one other version."""

from __future__ import annotations

import uuid
from typing import Any

from lambent.errors import (
    InvalidParameterValue,
    ResourceConflict,
    ResourceNotFound,
    ValidationError,
)
from lambent.functions import lookup, pagination, versions
from lambent.functions.catalog import StoreCatalog, not_found
from lambent.functions.lookup import Scope, Target
from lambent.functions.model import LATEST
from lambent.functions.repository import ALIAS, EVENT_INVOKE, POLICY, PROVISIONED
from lambent.store.interface import Doc


def check_routing(weights: dict[str, float], primary: str) -> None:
    """Lambda's rules for RoutingConfig.AdditionalVersionWeights (pure; existence aside).
    The model's constraints (weights in [0.0, 1.0], numeric keys) were checked before."""
    if len(weights) > 1:
        raise InvalidParameterValue(
            "Number of items in AdditionalVersionWeights cannot be greater than 1"
        )
    for version, weight in weights.items():
        if weight < 0.0 or weight >= 1.0:  # all of the traffic is not "additional"
            raise ValidationError(
                f"1 validation error detected: Value '{{{version}={weight}}}' at "
                "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
                "value must satisfy constraint: [Member must have value less than or equal to "
                "1.0, Member must have value greater than or equal to 0.0, Member must not be "
                "null]"
            )
        if version == primary:
            raise InvalidParameterValue(
                f"Invalid function version {primary}. Function version {primary} is already "
                "included in routing configuration."
            )
        if primary == LATEST:
            raise InvalidParameterValue(
                "$LATEST is not supported for an alias pointing to more than 1 version",
                front_door=True,
            )


class AliasService:
    def __init__(self, catalog: StoreCatalog) -> None:
        self._catalog = catalog
        self._repo = catalog.repo

    async def _target(
        self, scope: Scope, function: str, shown: lookup.Shown = lookup.Shown.AS_GIVEN
    ) -> Target:
        target = await lookup.find(self._catalog, scope, function, shown=shown)
        return Target(target.name, None, target.fn)

    async def _version_exists(self, scope: Scope, name: str, version: str) -> None:
        if await self._repo.version(scope.account, name, version) is None:
            raise not_found(scope.region, scope.account, name, version)

    async def _routing(
        self, scope: Scope, name: str, routing: dict[str, Any] | None, primary: str
    ) -> dict[str, Any] | None:
        weights = {
            str(k): float(v)
            for k, v in ((routing or {}).get("AdditionalVersionWeights") or {}).items()
        }
        if not weights:
            return None
        check_routing(weights, primary)
        for version in weights:
            await self._version_exists(scope, name, version)
        return {"AdditionalVersionWeights": weights}

    def _missing(self, scope: Scope, name: str, alias: str) -> ResourceNotFound:
        return ResourceNotFound(f"Cannot find alias arn: {scope.arn(name, alias)}")

    async def create(self, scope: Scope, params: dict[str, Any]) -> Doc:
        alias = str(params["Name"])
        primary = str(params["FunctionVersion"])
        # A missing function is reported with the version the alias was to point at.
        ref = lookup.reference(scope, params["FunctionName"])
        missing = not_found(scope.region, ref.account or scope.account, ref.name, primary)
        found = await lookup.find_ref(self._catalog, scope, ref, missing=missing)
        target = Target(found.name, None, found.fn)
        await self._version_exists(scope, target.name, primary)
        doc: Doc = {
            "AliasArn": scope.arn(target.name, alias),
            "Name": alias,
            "FunctionVersion": primary,
            "Description": params.get("Description") or "",
            "RevisionId": str(uuid.uuid4()),
        }
        routing = await self._routing(scope, target.name, params.get("RoutingConfig"), primary)
        if routing is not None:
            doc["RoutingConfig"] = routing
        if not await self._repo.insert_child(ALIAS, scope.account, target.name, alias, doc):
            raise ResourceConflict(f"Alias already exists: {doc['AliasArn']}")
        await self._catalog.changed(scope.account, target.name, None)
        return doc

    async def get(self, scope: Scope, function: str, alias: str) -> Doc:
        target = await self._target(scope, function)
        doc = await self._repo.child(ALIAS, scope.account, target.name, alias)
        if doc is None:
            raise self._missing(scope, target.name, alias)
        return doc

    async def update(self, scope: Scope, params: dict[str, Any]) -> Doc:
        target = await self._target(scope, params["FunctionName"])
        alias = str(params["Name"])
        async with self._repo.transaction():
            doc = await self._repo.child(ALIAS, scope.account, target.name, alias)
            if doc is None:
                raise ResourceNotFound(f"Alias not found: {scope.arn(target.name, alias)}")
            versions.check_revision(params.get("RevisionId"), str(doc["RevisionId"]))
            if params.get("FunctionVersion") is not None:
                doc["FunctionVersion"] = str(params["FunctionVersion"])
                await self._version_exists(scope, target.name, doc["FunctionVersion"])
            if params.get("Description") is not None:
                doc["Description"] = params["Description"]
            if "RoutingConfig" in params:
                routing = await self._routing(
                    scope, target.name, params["RoutingConfig"], str(doc["FunctionVersion"])
                )
                doc.pop("RoutingConfig", None)
                if routing is not None:
                    doc["RoutingConfig"] = routing
            elif doc.get("RoutingConfig"):
                check_routing(
                    doc["RoutingConfig"]["AdditionalVersionWeights"], str(doc["FunctionVersion"])
                )
            doc["RevisionId"] = str(uuid.uuid4())
            await self._repo.put_child(ALIAS, scope.account, target.name, alias, doc)
        await self._catalog.changed(scope.account, target.name, None)
        return doc

    async def delete(self, scope: Scope, function: str, alias: str) -> None:
        """Deleting an alias that does not exist succeeds, as on AWS."""
        target = await self._target(scope, function)
        async with self._repo.transaction():
            if not await self._repo.delete_child(ALIAS, scope.account, target.name, alias):
                return
            for kind in (PROVISIONED, EVENT_INVOKE, POLICY):
                await self._repo.delete_child(kind, scope.account, target.name, alias)
        await self._catalog.changed(scope.account, target.name, None)

    async def list(self, scope: Scope, params: dict[str, Any]) -> Doc:
        target = await self._target(scope, params["FunctionName"])
        wanted = params.get("FunctionVersion")
        rows = [
            row.doc
            for row in await self._repo.children(ALIAS, scope.account, target.name)
            if wanted is None or row.doc["FunctionVersion"] == wanted
        ]
        chunk, marker = pagination.page(
            rows, lambda d: (str(d["Name"]),), params.get("Marker"), params.get("MaxItems")
        )
        out: Doc = {"Aliases": chunk}
        if marker:
            out["NextMarker"] = marker
        return out
