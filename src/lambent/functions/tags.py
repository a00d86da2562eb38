"""Tags on functions (not on versions or aliases, as in Lambda) and on event source
mappings (kept on the mapping's document, not shown by GetEventSourceMapping).

The tag `lambent:network` = `none` is Lambent's switch for a function without network
access; changing it changes how every version runs, so listeners hear about it.
"""

from __future__ import annotations

from lambent.errors import InvalidParameterValue, ResourceNotFound
from lambent.event_sources import service as esm
from lambent.functions import arns, config, lookup, states
from lambent.functions.catalog import NETWORK_TAG, StoreCatalog
from lambent.functions.lookup import Scope, Target
from lambent.store.interface import Doc

QUALIFIED = (
    "Tags on function aliases and versions are not supported. Please specify a function ARN."
)
MAPPING = "event-source-mapping"
NO_MAPPING = "Event source mapping not found: {arn}"
# Taggable resources Lambent has none of: every ARN of theirs names a missing one.
_ABSENT = {"capacity-provider": "Capacity provider not found: {arn}"}


def resource_type(arn: str) -> str:
    """`function`, `event-source-mapping`, ... (the sixth part of a Lambda ARN)."""
    parts = arn.split(":")
    return parts[5] if len(parts) > 6 and parts[0] == "arn" else "function"


class TagService:
    def __init__(self, catalog: StoreCatalog) -> None:
        self._catalog = catalog
        self._repo = catalog.repo

    async def _target(self, scope: Scope, resource: str) -> Target:
        absent = _ABSENT.get(resource_type(resource))
        if absent is not None:
            raise ResourceNotFound(absent.format(arn=resource))
        if arns.parse_function(resource).qualifier is not None:
            raise InvalidParameterValue(QUALIFIED)  # before the function is looked up
        return await lookup.find(self._catalog, scope, resource)

    async def _save(self, scope: Scope, target: Target, tags: dict[str, str]) -> str | None:
        """Write the tags (inside the caller's transaction); what `changed()` must announce
        once it commits ("*": the network switch flipped, every version runs differently)."""
        before = (target.fn.get("tags") or {}).get(NETWORK_TAG)
        target.fn["tags"] = tags
        # Tagging is a change of the function: Lambda gives $LATEST a new RevisionId.
        target.fn["latest"]["config"]["RevisionId"] = states.new_revision()
        await self._repo.put_function(scope.account, target.name, target.fn)
        return "*" if tags.get(NETWORK_TAG) != before else None

    async def _mapping(self, scope: Scope, resource: str) -> Doc:
        parts = resource.split(":")
        doc = await self._repo.store.get(esm.KIND, scope.account, parts[-1])
        if (
            doc is None
            or doc.get("_region") != scope.region
            or parts[3:5]
            != [
                scope.region,
                scope.account,
            ]
        ):
            raise ResourceNotFound(NO_MAPPING.format(arn=resource))
        return doc

    async def _mapping_tags(
        self, scope: Scope, resource: str, change: dict[str, str | None]
    ) -> None:
        """Set (value) or remove (None) tags of an event source mapping."""
        async with self._repo.transaction():
            doc = await self._mapping(scope, resource)
            tags = dict(doc.get("_tags") or {})
            for key, value in change.items():
                if value is None:
                    tags.pop(key, None)
                else:
                    tags[key] = value
            config.check_tags(tags)
            doc["_tags"] = tags
            await self._repo.store.put(
                esm.KIND, scope.account, doc["UUID"], doc, parent=doc["_function"]
            )

    async def tag(self, scope: Scope, resource: str, tags: dict[str, str]) -> None:
        if not tags:
            raise InvalidParameterValue("An error occurred and the request cannot be processed.")
        if resource_type(resource) == MAPPING:
            await self._mapping_tags(scope, resource, dict(tags))
            return
        async with self._repo.transaction():
            target = await self._target(scope, resource)
            merged = {**(target.fn.get("tags") or {}), **tags}
            config.check_tags(merged)
            announce = await self._save(scope, target, merged)
        await self._catalog.changed(scope.account, target.name, announce)

    async def untag(self, scope: Scope, resource: str, keys: list[str]) -> None:
        if resource_type(resource) == MAPPING:
            await self._mapping_tags(scope, resource, dict.fromkeys(keys))
            return
        async with self._repo.transaction():
            target = await self._target(scope, resource)
            kept = {k: v for k, v in (target.fn.get("tags") or {}).items() if k not in set(keys)}
            announce = await self._save(scope, target, kept)
        await self._catalog.changed(scope.account, target.name, announce)

    async def list(self, scope: Scope, resource: str) -> Doc:
        if resource_type(resource) == MAPPING:
            return {"Tags": dict((await self._mapping(scope, resource)).get("_tags") or {})}
        target = await self._target(scope, resource)
        return {"Tags": dict(target.fn.get("tags") or {})}
