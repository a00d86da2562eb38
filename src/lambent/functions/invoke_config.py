"""Asynchronous invocation settings (retries, event age, destinations) per version or alias."""

from __future__ import annotations

from typing import Any

from lambent.errors import InvalidParameterValue, ResourceNotFound
from lambent.functions import arns, lookup, pagination
from lambent.functions.catalog import StoreCatalog
from lambent.functions.lookup import Scope, Target
from lambent.functions.model import LATEST
from lambent.functions.repository import ALIAS, EVENT_INVOKE
from lambent.store.interface import Doc

NO_FUNCTION = "The function doesn't exist."
DESTINATION_SERVICES = frozenset({"lambda", "sqs", "sns", "events", "s3"})


def check_settings(params: dict[str, Any]) -> None:
    if all(
        params.get(key) is None
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
    ):
        raise InvalidParameterValue(
            "You must specify at least one of error handling or destination setting."
        )


def destinations(given: dict[str, Any] | None) -> dict[str, dict[str, str]]:
    given = given or {}
    out: dict[str, dict[str, str]] = {}
    for side in ("OnSuccess", "OnFailure"):
        target = (given.get(side) or {}).get("Destination")
        out[side] = {"Destination": target} if target else {}
    return out


class InvokeConfigService:
    def __init__(self, catalog: StoreCatalog) -> None:
        self._catalog = catalog
        self._repo = catalog.repo

    async def _target(
        self, scope: Scope, function: str, qualifier: str | None
    ) -> tuple[Target, str]:
        target = await lookup.find(
            self._catalog, scope, function, qualifier, missing=ResourceNotFound(NO_FUNCTION)
        )
        q = target.qualifier or LATEST
        if q != LATEST:
            exists = (
                await self._repo.version(scope.account, target.name, q) is not None
                if q.isdigit()
                else await self._repo.child(ALIAS, scope.account, target.name, q) is not None
            )
            if not exists:
                raise ResourceNotFound(NO_FUNCTION)
        return target, q

    def _missing(self, scope: Scope, name: str, qualifier: str) -> ResourceNotFound:
        return ResourceNotFound(
            f"The function {scope.arn(name, qualifier)} doesn't have an EventInvokeConfig"
        )

    async def _check_destinations(
        self, scope: Scope, name: str, config: dict[str, dict[str, str]]
    ) -> None:
        bad = False
        for side in config.values():
            arn = side.get("Destination")
            if not arn:
                continue
            service = arn.split(":")[2] if arn.count(":") >= 5 else ""
            if service == "lambda":
                ref = arns.parse_function(arn)
                if ref.name == name:
                    raise InvalidParameterValue(
                        "You can't specify the function as a destination for itself."
                    )
                if await self._repo.function(scope.account, ref.name) is None:
                    raise InvalidParameterValue(f"The destination ARN {arn} is invalid.")
            elif service not in DESTINATION_SERVICES:
                bad = True
        if bad:
            ok = config["OnSuccess"].get("Destination")
            fail = config["OnFailure"].get("Destination")
            on_success = f"OnSuccess(destination={ok})" if ok else "null"
            on_failure = f"OnFailure(destination={fail})" if fail else "null"
            raise InvalidParameterValue(
                f"The provided destination config DestinationConfig(onSuccess={on_success}, "
                f"onFailure={on_failure}) is invalid."
            )

    async def _save(self, scope: Scope, target: Target, q: str, doc: Doc) -> Doc:
        doc["LastModified"] = self._catalog.clock.time()
        doc["FunctionArn"] = scope.arn(target.name, q)
        await self._repo.put_child(EVENT_INVOKE, scope.account, target.name, q, doc)
        await self._catalog.changed(scope.account, target.name, None)
        return doc

    async def put(self, scope: Scope, params: dict[str, Any]) -> Doc:
        check_settings(params)
        target, q = await self._target(scope, params["FunctionName"], params.get("Qualifier"))
        dest = destinations(params.get("DestinationConfig"))
        await self._check_destinations(scope, target.name, dest)
        doc: Doc = {"DestinationConfig": dest}
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if params.get(key) is not None:
                doc[key] = params[key]
        return await self._save(scope, target, q, doc)

    async def update(self, scope: Scope, params: dict[str, Any]) -> Doc:
        check_settings(params)
        target, q = await self._target(scope, params["FunctionName"], params.get("Qualifier"))
        doc = await self._repo.child(EVENT_INVOKE, scope.account, target.name, q)
        if doc is None:
            raise self._missing(scope, target.name, q)
        if params.get("DestinationConfig") is not None:
            merged = destinations(doc.get("DestinationConfig"))
            for side, value in destinations(params["DestinationConfig"]).items():
                if side in (params["DestinationConfig"] or {}):
                    merged[side] = value
            await self._check_destinations(scope, target.name, merged)
            doc["DestinationConfig"] = merged
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if params.get(key) is not None:
                doc[key] = params[key]
        return await self._save(scope, target, q, doc)

    async def get(self, scope: Scope, function: str, qualifier: str | None) -> Doc:
        ref = lookup.reference(scope, function, qualifier)
        q = ref.qualifier or LATEST
        doc = None
        fn = await self._repo.function(scope.account, ref.name)
        if fn is not None and fn["region"] == scope.region:
            doc = await self._repo.child(EVENT_INVOKE, scope.account, ref.name, q)
        if doc is None:
            raise self._missing(scope, ref.name, q)
        return doc

    async def delete(self, scope: Scope, function: str, qualifier: str | None) -> None:
        doc = await self.get(scope, function, qualifier)
        ref = arns.parse_function(function, qualifier)
        await self._repo.delete_child(
            EVENT_INVOKE, scope.account, ref.name, ref.qualifier or LATEST
        )
        del doc
        await self._catalog.changed(scope.account, ref.name, None)

    async def list(self, scope: Scope, params: dict[str, Any]) -> Doc:
        target = await lookup.find(
            self._catalog, scope, params["FunctionName"], missing=ResourceNotFound(NO_FUNCTION)
        )
        rows = await self._repo.children(EVENT_INVOKE, scope.account, target.name)
        chunk, marker = pagination.page(
            rows,
            lambda row: pagination.qualifier_key(row.key),
            params.get("Marker"),
            params.get("MaxItems"),
        )
        out: Doc = {"FunctionEventInvokeConfigs": [row.doc for row in chunk]}
        if marker:
            out["NextMarker"] = marker
        return out
