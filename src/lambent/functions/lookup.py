"""Finding the function a request names, as Lambda scopes it: by account and region.

AWS's order of checks, after the model's constraints: an ARN of another region is not
reachable, then the name's qualifier must agree with the Qualifier parameter, then the
function must exist. The ARN a not-found message shows depends on the operation
(`Shown`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lambent.errors import InvalidParameterValue, ResourceNotFound
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


class Shown(enum.Enum):
    """Which ARN an operation's `Function not found: <arn>` shows."""

    AS_GIVEN = "as given"  # GetFunction(Configuration): `<fn-arn>[:<qualifier>]`
    FUNCTION = "function"  # DeleteFunction, GetFunctionConcurrency, AddPermission: `<fn-arn>`
    OR_LATEST = "or $LATEST"  # Invoke, PutFunctionConcurrency: `<fn-arn>:<qualifier|$LATEST>`

    def qualifier(self, given: str | None) -> str | None:
        if self is Shown.FUNCTION:
            return None
        if self is Shown.OR_LATEST:
            return given or LATEST
        return given


@dataclass(frozen=True)
class Target:
    name: str
    qualifier: str | None
    fn: Doc

    @property
    def version_or_latest(self) -> str:
        return self.qualifier or LATEST


def reference(scope: Scope, function: str, qualifier: str | None = None) -> arns.FunctionRef:
    """What the request names, with the checks AWS makes before looking it up."""
    return arns.parse_function(function, qualifier, region=scope.region)


async def find(
    catalog: StoreCatalog,
    scope: Scope,
    function: str,
    qualifier: str | None = None,
    *,
    missing: ResourceNotFound | None = None,
    shown: Shown = Shown.AS_GIVEN,
) -> Target:
    ref = reference(scope, function, qualifier)
    return await find_ref(catalog, scope, ref, missing=missing, shown=shown)


async def find_ref(
    catalog: StoreCatalog,
    scope: Scope,
    ref: arns.FunctionRef,
    *,
    missing: ResourceNotFound | None = None,
    shown: Shown = Shown.AS_GIVEN,
) -> Target:
    account = ref.account or scope.account
    fn = await catalog.repo.function(scope.account, ref.name)
    if fn is None or account != scope.account or fn["region"] != scope.region:
        raise missing or _missing(scope, ref, shown)
    return Target(ref.name, ref.qualifier, fn)


def _missing(scope: Scope, ref: arns.FunctionRef, shown: Shown) -> ResourceNotFound:
    account = ref.account or scope.account
    return not_found(scope.region, account, ref.name, shown.qualifier(ref.qualifier))


async def unqualified(
    catalog: StoreCatalog, scope: Scope, function: str, *, shown: Shown = Shown.AS_GIVEN
) -> Target:
    """For operations on the function itself; a qualifier in the name is not allowed."""
    target = await find(catalog, scope, function, shown=shown)
    if target.qualifier is not None:
        raise InvalidParameterValue(
            "This operation is permitted on Lambda functions only. Aliases and versions do not "
            "support this operation. Please specify either a function name or an unqualified "
            "function ARN."
        )
    return target
