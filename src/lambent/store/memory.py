"""An in-memory store that ships in the package: the fake every contract test also runs.

It keeps the real stores' semantics, so code tested against it behaves the same on SQLite:
documents go through JSON (a tuple comes back a list), a transaction works on its own copy
that replaces the committed data only on commit, and every call yields to the event loop
once, so concurrent tasks interleave as they do when the I/O is real.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TypeVar

from lambent.store.interface import Doc, Row, Rows, Scanned
from lambent.store.transactions import TransactionScope

T = TypeVar("T")
_Key = tuple[str, str, str]
_Data = dict[_Key, tuple[str, str]]  # (kind, account, key) -> (parent, JSON text)


@dataclass
class _Tx:
    data: _Data


def _encode(doc: Doc) -> str:
    return json.dumps(doc, separators=(",", ":"))


class MemoryStore:
    def __init__(self) -> None:
        self._data: _Data = {}
        self._scope: TransactionScope[_Tx] = TransactionScope(
            "lambent-memory-store", self._begin, self._commit, self._rollback
        )

    async def _begin(self) -> _Tx:
        return _Tx(dict(self._data))

    async def _commit(self, tx: _Tx) -> None:
        self._data = tx.data

    async def _rollback(self, tx: _Tx) -> None:
        tx.data = {}

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return self._scope.transaction()

    async def _view(self) -> _Data:
        """What the current task sees: its transaction's copy, or the committed data."""
        await asyncio.sleep(0)
        tx = self._scope.current()
        return self._data if tx is None else tx.data

    async def _write(self, change: Callable[[_Data], T]) -> T:
        await asyncio.sleep(0)
        tx = self._scope.current()
        if tx is not None:
            return change(tx.data)
        async with self._scope.writer_lock():
            return change(self._data)

    async def get(self, kind: str, account: str, key: str) -> Doc | None:
        found = (await self._view()).get((kind, account, key))
        return None if found is None else _decode(found[1])

    async def put(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> None:
        text = _encode(doc)

        def change(data: _Data) -> None:
            data[(kind, account, key)] = (parent, text)

        await self._write(change)

    async def insert(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> bool:
        text = _encode(doc)

        def change(data: _Data) -> bool:
            if (kind, account, key) in data:
                return False
            data[(kind, account, key)] = (parent, text)
            return True

        return await self._write(change)

    async def delete(self, kind: str, account: str, key: str) -> bool:
        return bool(await self._write(lambda data: data.pop((kind, account, key), None)))

    async def delete_children(self, kind: str, account: str, parent: str) -> int:
        def change(data: _Data) -> int:
            doomed = [k for k, (p, _) in data.items() if k[:2] == (kind, account) and p == parent]
            for k in doomed:
                del data[k]
            return len(doomed)

        return await self._write(change)

    async def list(
        self,
        kind: str,
        account: str,
        *,
        parent: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> Rows:
        data = await self._view()
        found = sorted(
            (k[2], text)
            for k, (p, text) in data.items()
            if k[0] == kind
            and k[1] == account
            and (parent is None or p == parent)
            and (after is None or k[2] > after)
        )
        if limit is not None:
            found = found[:limit]
        return [Row(key, _decode(text)) for key, text in found]

    async def scan(self, kind: str) -> Scanned:
        data = await self._view()
        found = sorted((k[1], k[2], text) for k, (_, text) in data.items() if k[0] == kind)
        return [(account, Row(key, _decode(text))) for account, key, text in found]

    async def checkpoint(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _decode(text: str) -> Doc:
    doc: Doc = json.loads(text)
    return doc
