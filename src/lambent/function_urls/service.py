"""Create, read, update, delete and list function URL configurations, with Lambda's rules.

A URL belongs to $LATEST (no qualifier) or to an alias, never to a published version, and
each qualifier has at most one. Messages are the ones AWS answers with.
"""

from __future__ import annotations

from typing import Any

from lambent.clock import Clock
from lambent.errors import ResourceConflict, ResourceNotFound, ValidationError
from lambent.function_urls import addresses
from lambent.function_urls.model import UrlConfig, new_url_id, render
from lambent.function_urls.repository import UrlIdTaken, UrlRepository
from lambent.functions import lookup, pagination
from lambent.functions.catalog import StoreCatalog
from lambent.functions.lookup import Scope
from lambent.functions.model import LATEST
from lambent.functions.repository import ALIAS, POLICY
from lambent.store.interface import Doc

QUALIFIER_PATTERN = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)"
NO_FUNCTION = "Function does not exist"
NO_CONFIG = "The resource you requested does not exist."


def check_qualifier(qualifier: str) -> None:
    """A version number is not a URL qualifier (the model's pattern, also applied to a
    qualifier given inside the function name)."""
    if qualifier != LATEST and qualifier.isdigit():
        raise ValidationError(
            f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}"
        )


def is_current(config: UrlConfig, fn: Doc | None) -> bool:
    """False once the function was deleted (and maybe created again under the same name)."""
    return fn is not None and float(fn["created"]) == config.function_created


class FunctionUrlService:
    def __init__(self, catalog: StoreCatalog, clock: Clock, endpoint: str) -> None:
        self._catalog = catalog
        self._clock = clock
        self._endpoint = endpoint
        self.repo = UrlRepository(catalog.repo.store)

    def url_of(self, config: UrlConfig) -> str:
        return addresses.function_url(self._endpoint, config.url_id)

    async def _target(
        self, scope: Scope, function: str, qualifier: str | None, missing: str = NO_FUNCTION
    ) -> tuple[Doc, str, str]:
        ref = lookup.reference(scope, function, qualifier)
        q = ref.qualifier or LATEST
        check_qualifier(q)
        target = await lookup.find(
            self._catalog, scope, function, qualifier, missing=ResourceNotFound(missing)
        )
        return target.fn, target.name, q

    async def _existing(
        self, scope: Scope, params: dict[str, Any], missing: str = NO_CONFIG
    ) -> UrlConfig:
        """The current config. `missing`: AWS's answer for a missing function or alias
        (Get and Delete say the resource does not exist, Update that the function does
        not); a function without a config is a missing resource to all of them."""
        fn, name, q = await self._target(
            scope, params["FunctionName"], params.get("Qualifier"), missing
        )
        config = await self.repo.by_qualifier(scope.account, name, q)
        if config is None or not is_current(config, fn):
            if (
                q != LATEST
                and await self._catalog.repo.child(ALIAS, scope.account, name, q) is None
            ):
                raise ResourceNotFound(missing)
            raise ResourceNotFound(NO_CONFIG)
        return config

    async def create(self, scope: Scope, params: dict[str, Any]) -> Doc:
        fn, name, q = await self._target(scope, params["FunctionName"], params.get("Qualifier"))
        async with self.repo.store.transaction():
            existing = await self.repo.by_qualifier(scope.account, name, q)
            if existing is not None and is_current(existing, fn):
                raise ResourceConflict(
                    f"Failed to create function url config for [functionArn = "
                    f"{existing.function_arn}]. Error message:  FunctionUrlConfig exists for "
                    "this Lambda function"
                )
            if existing is not None:
                await self.repo.delete(existing)
            if (
                q != LATEST
                and await self._catalog.repo.child(ALIAS, scope.account, name, q) is None
            ):
                raise ResourceNotFound(NO_FUNCTION)
            config = await self._insert(scope, fn, name, q, params)
        return render(config, self.url_of(config), with_modified=False)

    async def _insert(
        self, scope: Scope, fn: Doc, name: str, qualifier: str, params: dict[str, Any]
    ) -> UrlConfig:
        now = self._clock.time()
        for _ in range(3):
            config = UrlConfig(
                url_id=new_url_id(),
                account=scope.account,
                region=str(fn["region"]),
                function=name,
                qualifier=qualifier,
                auth_type=str(params["AuthType"]),
                created=now,
                modified=now,
                function_created=float(fn["created"]),
                cors=dict(params["Cors"]) if params.get("Cors") is not None else None,
                invoke_mode=params.get("InvokeMode"),
            )
            try:
                if not await self.repo.insert(config):
                    raise ResourceConflict("FunctionUrlConfig exists for this Lambda function")
                return config
            except UrlIdTaken:
                continue
        raise ResourceConflict("Could not allocate a unique function URL; try again.")

    async def get(self, scope: Scope, params: dict[str, Any]) -> Doc:
        config = await self._existing(scope, params)
        return render(config, self.url_of(config))

    async def update(self, scope: Scope, params: dict[str, Any]) -> Doc:
        async with self.repo.store.transaction():
            existing = await self._existing(scope, params, NO_FUNCTION)
            config = existing.updated(params, self._clock.time())
            await self.repo.put(config)
        return render(config, self.url_of(config))

    async def delete(self, scope: Scope, params: dict[str, Any]) -> None:
        async with self.repo.store.transaction():
            await self.repo.delete(await self._existing(scope, params))

    async def list(self, scope: Scope, params: dict[str, Any]) -> Doc:
        fn, name, _ = await self._target(scope, params["FunctionName"], None)
        configs = [c for c in await self.repo.of_function(scope.account, name) if is_current(c, fn)]
        chunk, marker = pagination.page(
            configs,
            lambda c: pagination.qualifier_key(c.qualifier),
            params.get("Marker"),
            params.get("MaxItems"),
        )
        out: Doc = {"FunctionUrlConfigs": [render(c, self.url_of(c)) for c in chunk]}
        if marker:
            out["NextMarker"] = marker
        return out

    # the endpoint's view -------------------------------------------------------------
    async def find(self, url_id: str) -> UrlConfig | None:
        """The live configuration a URL request names, or None (unknown, deleted, stale)."""
        config = await self.repo.by_id(url_id)
        if config is None:
            return None
        fn = await self._catalog.function_doc(config.account, config.function)
        return config if is_current(config, fn) else None

    async def policy(self, config: UrlConfig) -> Doc | None:
        """The resource policy of the URL's qualifier ("" is the unqualified function's)."""
        key = "" if config.qualifier == LATEST else config.qualifier
        return await self._catalog.repo.child(POLICY, config.account, config.function, key)

    async def purge(self, account: str, function: str) -> None:
        """Drop the URLs of a function that no longer exists (DeleteFunction)."""
        fn = await self._catalog.repo.function(account, function)
        for config in await self.repo.of_function(account, function):
            if not is_current(config, fn):
                await self.repo.delete(config)


class UrlPurger:
    """Listens to the catalog: when a function is deleted, its URLs go with it, as in AWS."""

    def __init__(self, service: FunctionUrlService) -> None:
        self._service = service

    async def function_changed(self, account_id: str, function_name: str, version: str) -> None:
        """Awaited by the catalog, so DeleteFunction answers once the URLs are gone."""
        if version == "*":
            await self._service.purge(account_id, function_name)

    def version_published(self, account_id: str, function_name: str, version: str) -> None:
        return None
