"""Finding the function a request names, as Lambda scopes it: by account and region."""

from __future__ import annotations

from dataclasses import dataclass

from lambent.errors import ResourceNotFound
from lambent.functions import arns
from lambent.functions.catalog import StoreCatalog, not_found
from lambent.functions.model import LATEST
from lambent.store.interface import Doc


@dataclass(frozen=True)
class Scope:
    """Who asks, and in which region: nothing of another account or region is visible."""

    account: str
    region: str

    def arn(self, name: str, qualifier: str | None = None) -> str:
        return arns.function_arn(self.region, self.account, name, qualifier)


@dataclass(frozen=True)
class Target:
    name: str
    qualifier: str | None
    fn: Doc

    @property
    def version_or_latest(self) -> str:
        return self.qualifier or LATEST


async def find(
    catalog: StoreCatalog,
    scope: Scope,
    function: str,
    qualifier: str | None = None,
    *,
    missing: ResourceNotFound | None = None,
) -> Target:
    ref = arns.parse_function(function, qualifier)
    region = ref.region or scope.region
    account = ref.account or scope.account
    fn = await catalog.repo.function(scope.account, ref.name)
    if fn is None or account != scope.account or fn["region"] != region:
        raise missing or not_found(region, account, ref.name, ref.qualifier)
    return Target(ref.name, ref.qualifier, fn)


async def unqualified(catalog: StoreCatalog, scope: Scope, function: str) -> Target:
    """For operations on the function itself; a qualifier in the name is not allowed."""
    target = await find(catalog, scope, function)
    if target.qualifier is not None:
        from lambent.errors import InvalidParameterValue

        raise InvalidParameterValue(
            "This operation is permitted on Lambda functions only. Aliases and versions do not "
            "support this operation. Please specify either a function name or an unqualified "
            "function ARN."
        )
    return target
