"""Tags on functions (not on versions or aliases, as in Lambda).

The tag `lambent:network` = `none` is Lambent's switch for a function without network
access; changing it changes how every version runs, so listeners hear about it.
"""

from __future__ import annotations

from lambent.errors import InvalidParameterValue
from lambent.functions import config, lookup
from lambent.functions.catalog import NETWORK_TAG, StoreCatalog
from lambent.functions.lookup import Scope, Target
from lambent.store.interface import Doc

QUALIFIED = (
    "Tagging operations are permitted on Lambda functions only. Tags on aliases and versions "
    "are not supported. Please specify either a function name or a function ARN."
)


class TagService:
    def __init__(self, catalog: StoreCatalog) -> None:
        self._catalog = catalog
        self._repo = catalog.repo

    def _target(self, scope: Scope, resource: str) -> Target:
        target = lookup.find(self._catalog, scope, resource)
        if target.qualifier is not None:
            raise InvalidParameterValue(QUALIFIED)
        return target

    def _save(self, scope: Scope, target: Target, tags: dict[str, str]) -> None:
        before = (target.fn.get("tags") or {}).get(NETWORK_TAG)
        target.fn["tags"] = tags
        self._repo.put_function(scope.account, target.name, target.fn)
        network_changed = tags.get(NETWORK_TAG) != before
        self._catalog.changed(scope.account, target.name, "*" if network_changed else None)

    def tag(self, scope: Scope, resource: str, tags: dict[str, str]) -> None:
        if not tags:
            raise InvalidParameterValue("An error occurred and the request cannot be processed.")
        with self._repo.transaction():
            target = self._target(scope, resource)
            merged = {**(target.fn.get("tags") or {}), **tags}
            config.check_tags(merged)
            self._save(scope, target, merged)

    def untag(self, scope: Scope, resource: str, keys: list[str]) -> None:
        with self._repo.transaction():
            target = self._target(scope, resource)
            kept = {k: v for k, v in (target.fn.get("tags") or {}).items() if k not in set(keys)}
            self._save(scope, target, kept)

    def list(self, scope: Scope, resource: str) -> Doc:
        target = self._target(scope, resource)
        return {"Tags": dict(target.fn.get("tags") or {})}
