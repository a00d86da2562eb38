"""Reserved and provisioned concurrency settings, and GetAccountSettings.

The control plane only records them (with Lambda's limits and messages); the data plane
reads them through the catalog and reports provisioned status back via
`StoreCatalog.set_provisioned_status`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambent.errors import (
    InvalidParameterValue,
    ProvisionedConcurrencyNotFound,
    ResourceConflict,
    ResourceNotFound,
)
from lambent.functions import arns, config, lookup, pagination
from lambent.functions.catalog import not_found
from lambent.functions.lookup import Scope, Target
from lambent.functions.model import LATEST
from lambent.functions.repository import ALIAS, PROVISIONED
from lambent.layers.repository import LayerRepository
from lambent.store.interface import Doc

if TYPE_CHECKING:
    from lambent.functions.catalog import StoreCatalog

UNPUBLISHED = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
NOT_PUBLISHED = "The function resource provided must be an alias or a published version."
STATUSES = frozenset({"IN_PROGRESS", "READY", "FAILED"})


def below_minimum(
    minimum: int, what: str = "ReservedConcurrentExecutions"
) -> InvalidParameterValue:
    """AWS answers its concurrency arithmetic without `Type`, unlike its other IPVEs."""
    return InvalidParameterValue(
        f"Specified {what} for function decreases account's UnreservedConcurrentExecution "
        f"below its minimum value of [{minimum}].",
        front_door=True,
    )


def over_unreserved(unreserved: int) -> InvalidParameterValue:
    return InvalidParameterValue(
        "Specified ConcurrentExecutions for function is greater than account's unreserved "
        f"concurrency [{unreserved}].",
        front_door=True,
    )


def below_provisioned(value: int, provisioned: int) -> InvalidParameterValue:
    """Spaces as AWS words it (a leading one, two before the value)."""
    return InvalidParameterValue(
        f" ReservedConcurrentExecutions  {value} should not be lower than function's "
        f"total provisioned concurrency [{provisioned}].",
        front_door=True,
    )


def unreserved_after(limit: int, reserved: list[int], new: int) -> int:
    """Unreserved concurrency left if a function reserves `new` (others keep theirs)."""
    return limit - sum(reserved) - new


class ConcurrencyService:
    def __init__(self, catalog: StoreCatalog, layers: LayerRepository) -> None:
        self._catalog = catalog
        self._repo = catalog.repo
        self._layers = layers
        limits = catalog.settings.limits
        self._limit = limits.account_concurrency
        self._minimum = limits.unreserved_minimum

    async def _reserved(self, account: str, *, skip: str | None = None) -> list[int]:
        return [
            int(row.doc["reserved"])
            for row in await self._repo.functions(account)
            if row.doc.get("reserved") is not None and row.key != skip
        ]

    async def _provisioned(self, account: str, name: str, *, skip: str | None = None) -> int:
        return sum(
            int(row.doc["RequestedProvisionedConcurrentExecutions"])
            for row in await self._repo.children(PROVISIONED, account, name)
            if row.key != skip
        )

    # reserved --------------------------------------------------------------------------
    async def put_reserved(self, scope: Scope, function: str, value: int) -> Doc:
        async with self._repo.transaction():
            target = await lookup.unqualified(
                self._catalog, scope, function, shown=lookup.Shown.OR_LATEST
            )
            others = await self._reserved(scope.account, skip=target.name)
            if unreserved_after(self._limit, others, value) < self._minimum:
                raise below_minimum(self._minimum)
            provisioned = await self._provisioned(scope.account, target.name)
            if provisioned > value:
                raise below_provisioned(value, provisioned)
            target.fn["reserved"] = value
            await self._repo.put_function(scope.account, target.name, target.fn)
        await self._catalog.changed(scope.account, target.name, None)
        return {"ReservedConcurrentExecutions": value}

    async def get_reserved(self, scope: Scope, function: str) -> Doc:
        target = await lookup.unqualified(
            self._catalog, scope, function, shown=lookup.Shown.FUNCTION
        )
        value = target.fn.get("reserved")
        return {} if value is None else {"ReservedConcurrentExecutions": value}

    async def delete_reserved(self, scope: Scope, function: str) -> None:
        async with self._repo.transaction():
            target = await lookup.unqualified(self._catalog, scope, function)
            target.fn["reserved"] = None
            await self._repo.put_function(scope.account, target.name, target.fn)
        await self._catalog.changed(scope.account, target.name, None)

    # provisioned -----------------------------------------------------------------------
    async def _published(
        self, scope: Scope, function: str, qualifier: str, message: str
    ) -> tuple[Target, str]:
        """The target and the version a version-or-alias qualifier names."""
        if qualifier == LATEST:
            raise InvalidParameterValue(message)
        # A missing function is reported as its qualifier's kind is: a missing alias, or a
        # missing version.
        ref = arns.parse_function(function, qualifier)
        q = ref.qualifier or qualifier
        missing = (
            None
            if q.isdigit()
            else ResourceNotFound(f"Cannot find alias arn: {scope.arn(ref.name, q)}")
        )
        target = await lookup.find(self._catalog, scope, function, qualifier, missing=missing)
        q = str(target.qualifier)
        if q.isdigit():
            if await self._repo.version(scope.account, target.name, q) is None:
                raise not_found(scope.region, scope.account, target.name, q)
            return target, q
        alias = await self._repo.child(ALIAS, scope.account, target.name, q)
        if alias is None:
            raise ResourceNotFound(f"Cannot find alias arn: {scope.arn(target.name, q)}")
        return target, str(alias["FunctionVersion"])

    async def put_provisioned(self, scope: Scope, params: dict[str, Any]) -> Doc:
        value = int(params["ProvisionedConcurrentExecutions"])
        async with self._repo.transaction():
            target, version = await self._published(
                scope,
                params["FunctionName"],
                params["Qualifier"],
                UNPUBLISHED,
            )
            q = str(target.qualifier)
            await self._check_overlap(scope, target.name, q, version)
            reserved = target.fn.get("reserved")
            others = await self._provisioned(scope.account, target.name, skip=q)
            if reserved is not None and int(reserved) < others + value:
                raise InvalidParameterValue(
                    "Requested Provisioned Concurrency should not be greater than the "
                    "reservedConcurrentExecution for function"
                )
            if reserved is None:
                await self._check_unreserved(scope.account, value)
            doc: Doc = {
                "FunctionArn": scope.arn(target.name, q),
                "RequestedProvisionedConcurrentExecutions": value,
                "AvailableProvisionedConcurrentExecutions": 0,
                "AllocatedProvisionedConcurrentExecutions": 0,
                "Status": "IN_PROGRESS",
                "LastModified": config.timestamp(self._catalog.clock.time()),
                "_account": scope.account,
                "_function": target.name,
                "_qualifier": q,
                "_version": version,
            }
            await self._repo.put_child(PROVISIONED, scope.account, target.name, q, doc)
        await self._catalog.changed(scope.account, target.name, None)
        return _shown(doc, with_arn=False)

    async def _check_unreserved(self, account: str, provisioned: int) -> None:
        """A function without a reservation takes provisioned concurrency from the
        unreserved pool, which must keep its minimum."""
        unreserved = self._limit - sum(await self._reserved(account))
        if provisioned > unreserved:
            raise over_unreserved(unreserved)
        if provisioned > unreserved - self._minimum:
            raise below_minimum(self._minimum, "ConcurrentExecutions")

    async def _check_overlap(self, scope: Scope, name: str, qualifier: str, version: str) -> None:
        configs = {
            row.key: row.doc for row in await self._repo.children(PROVISIONED, scope.account, name)
        }
        if not qualifier.isdigit() and version in configs:
            raise ResourceConflict(
                "Alias can't be used for Provisioned Concurrency configuration on an already "
                "Provisioned version"
            )
        if qualifier.isdigit() and any(
            key != qualifier and doc.get("_version") == qualifier for key, doc in configs.items()
        ):
            raise ResourceConflict("Version is pointed by a Provisioned Concurrency alias")

    async def get_provisioned(self, scope: Scope, function: str, qualifier: str) -> Doc:
        target, _ = await self._published(
            scope,
            function,
            qualifier,
            "The function resource provided must be an alias or a published version.",
        )
        doc = await self._repo.child(PROVISIONED, scope.account, target.name, str(target.qualifier))
        if doc is None:
            raise ProvisionedConcurrencyNotFound(
                "No Provisioned Concurrency Config found for this function"
            )
        return _shown(doc, with_arn=False)

    async def delete_provisioned(self, scope: Scope, function: str, qualifier: str) -> None:
        target, _ = await self._published(
            scope,
            function,
            qualifier,
            "The function resource provided must be an alias or a published version.",
        )
        await self._repo.delete_child(
            PROVISIONED, scope.account, target.name, str(target.qualifier)
        )
        await self._catalog.changed(scope.account, target.name, None)

    async def list_provisioned(self, scope: Scope, params: dict[str, Any]) -> Doc:
        target = await lookup.find(self._catalog, scope, params["FunctionName"])
        rows = await self._repo.children(PROVISIONED, scope.account, target.name)
        chunk, marker = pagination.page(
            rows,
            lambda row: pagination.qualifier_key(row.key),
            params.get("Marker"),
            params.get("MaxItems"),
        )
        out: Doc = {
            "ProvisionedConcurrencyConfigs": [_shown(row.doc, with_arn=True) for row in chunk]
        }
        if marker:
            out["NextMarker"] = marker
        return out

    # account ---------------------------------------------------------------------------
    async def account_settings(self, scope: Scope) -> Doc:
        limits = self._catalog.settings.limits
        functions = await self._repo.functions(scope.account)
        total = 0
        for row in functions:
            total += int(row.doc["latest"]["code"]["size"])
            total += sum(
                int(d["code"]["size"]) for d in await self._repo.versions(scope.account, row.key)
            )
        for name, _ in await self._layers.layers(scope.account, scope.region):
            total += sum(
                int(d["Content"]["CodeSize"])
                for d in await self._layers.versions(scope.account, scope.region, name)
            )
        return {
            "AccountLimit": {
                "TotalCodeSize": limits.total_code_size,
                "CodeSizeUnzipped": limits.code_size_unzipped,
                "CodeSizeZipped": limits.code_size_zipped,
                "ConcurrentExecutions": self._limit,
                "UnreservedConcurrentExecutions": self._limit
                - sum(await self._reserved(scope.account)),
            },
            "AccountUsage": {"TotalCodeSize": total, "FunctionCount": len(functions)},
        }


def _shown(doc: Doc, *, with_arn: bool) -> Doc:
    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    if not with_arn:
        out.pop("FunctionArn", None)
    return out


async def set_status(
    catalog: StoreCatalog,
    account: str,
    name: str,
    qualifier: str,
    status: str,
    reason: str | None,
    available: int | None,
    allocated: int | None,
) -> None:
    """The data plane's progress on a provisioned concurrency config."""
    if status not in STATUSES:
        raise ValueError(f"provisioned concurrency status must be one of {sorted(STATUSES)}")
    repo = catalog.repo
    async with repo.transaction():
        doc = await repo.child(PROVISIONED, account, name, qualifier)
        if doc is None:
            return
        doc["Status"] = status
        doc.pop("StatusReason", None)
        if reason:
            doc["StatusReason"] = reason
        if available is not None:
            doc["AvailableProvisionedConcurrentExecutions"] = available
        if allocated is not None:
            doc["AllocatedProvisionedConcurrentExecutions"] = allocated
        await repo.put_child(PROVISIONED, account, name, qualifier, doc)
    await catalog.changed(account, name, None)
