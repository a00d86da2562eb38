"""The store interface: JSON documents by (kind, account, key), with a parent for listing.

Every resource (function, version, alias, layer, role, key, ...) is a document. Documents
are small and read whole, which keeps the interface narrow enough to implement on SQLite
(the embedded default), in memory (the fake that ships in the package) and on PostgreSQL
(JSONB). Repositories in the domain packages give it types. `tests/contract/` holds the
suite every implementation passes.

The interface is asynchronous so that the control plane never blocks the event loop: an
implementation does its I/O on its own threads (SQLite) or its own async driver
(PostgreSQL), never on the loop.

Semantics every implementation keeps:

- A document read is a fresh copy: the caller may change it and `put` it back.
- Outside a transaction each call is atomic on its own and sees committed data only.
- `async with store.transaction():` groups the calls the *current task* makes inside it
  into one transaction: they see their own writes, nobody else sees them before the commit,
  and an exception rolls all of them back. A transaction belongs to the task that opened it
  (other tasks, even ones started inside it, run outside it), the way a PostgreSQL
  transaction belongs to the one pooled connection that runs it.
- A nested `transaction()` in the same task joins the outer one (no savepoints): it commits
  or rolls back with the outer one.
- Transactions are serializable: writers run one at a time (SQLite's BEGIN IMMEDIATE; one
  lock in memory; a transaction-scoped advisory lock on PostgreSQL), so a read-modify-write
  inside a transaction never loses a concurrent update. A write outside a transaction waits
  for the running one. Hence the rule for callers: a task that holds a transaction must not
  wait for another task that writes (that task would wait for it in turn), and should keep
  slow work (hashing, file writes, network) outside it.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

Doc = dict[str, Any]


@dataclass(frozen=True)
class Row:
    key: str
    doc: Doc


Rows = list[Row]
Scanned = list[tuple[str, Row]]  # (account, row)


class Store(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[None]:
        """Group this task's reads and writes atomically; nested use joins the outer one."""

    async def get(self, kind: str, account: str, key: str) -> Doc | None: ...

    async def put(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> None:
        """Write the document (insert or replace), with the parent it is listed under."""

    async def insert(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> bool:
        """Write only if absent; False when the key already exists."""

    async def delete(self, kind: str, account: str, key: str) -> bool:
        """Remove one document; False when there was none."""

    async def delete_children(self, kind: str, account: str, parent: str) -> int:
        """Remove every document of `kind` listed under `parent`; how many went."""

    async def list(
        self,
        kind: str,
        account: str,
        *,
        parent: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> Rows:
        """Documents ordered by key (binary order); `after` is an exclusive lower bound for
        pagination and `limit` caps the count."""

    async def scan(self, kind: str) -> Scanned:
        """Every document of a kind across accounts, as (account, row) ordered by account
        then key (start-up recovery, admin)."""

    async def checkpoint(self) -> None:
        """Make content that was just rewritten (secrets sealed in place) leave the
        backend's logs and free space as far as it can (SQLite: WAL checkpoint; PostgreSQL:
        VACUUM; memory: nothing to do)."""

    async def close(self) -> None:
        """Release connections and threads; waits for work already handed over."""
