"""The store interface: JSON documents by (kind, account, key), with a parent for listing.

Every resource (function, version, alias, layer, role, key, ...) is a document. Documents
are small and read whole, which keeps the interface narrow enough to implement on SQLite
today and PostgreSQL (JSONB) later. Repositories in the domain packages give it types.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

Doc = dict[str, Any]


@dataclass(frozen=True)
class Row:
    key: str
    doc: Doc


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[None]:
        """Group writes atomically. Nested use joins the outer transaction."""

    def get(self, kind: str, account: str, key: str) -> Doc | None: ...

    def put(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> None: ...

    def insert(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> bool:
        """Write only if absent; False when the key already exists."""

    def delete(self, kind: str, account: str, key: str) -> bool: ...

    def delete_children(self, kind: str, account: str, parent: str) -> int: ...

    def list(
        self,
        kind: str,
        account: str,
        *,
        parent: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Row]:
        """Documents ordered by key; `after` is an exclusive lower bound for pagination."""

    def scan(self, kind: str) -> Iterator[tuple[str, Row]]:
        """Every document of a kind across accounts (start-up recovery, admin)."""

    def close(self) -> None: ...
