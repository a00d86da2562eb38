"""PutFunctionRecursionConfig / GetFunctionRecursionConfig: whether Lambda stops a
recursive loop through this function (Terminate, the default) or lets it run (Allow).

The setting belongs to the function, not to a version: it is kept on the function's
document (`recursive_loop`), and the data plane reads it from the version it resolves
(`FunctionVersion.recursive_loop`, built from that document), so an invoke reads nothing
more than it did.
"""

from __future__ import annotations

from lambent.functions import lookup
from lambent.functions.catalog import StoreCatalog
from lambent.functions.lookup import Scope
from lambent.store.interface import Doc

TERMINATE = "Terminate"
ALLOW = "Allow"


def recursive_loop(fn: Doc) -> str:
    return str(fn.get("recursive_loop") or TERMINATE)


class RecursionConfigService:
    def __init__(self, catalog: StoreCatalog) -> None:
        self._catalog = catalog
        self._repo = catalog.repo

    async def put(self, scope: Scope, function: str, value: str) -> Doc:
        async with self._repo.transaction():
            target = await lookup.unqualified(self._catalog, scope, function)
            target.fn["recursive_loop"] = value
            await self._repo.put_function(scope.account, target.name, target.fn)
        await self._catalog.changed(scope.account, target.name, None)
        return {"RecursiveLoop": value}

    async def get(self, scope: Scope, function: str) -> Doc:
        target = await lookup.unqualified(self._catalog, scope, function)
        return {"RecursiveLoop": recursive_loop(target.fn)}
