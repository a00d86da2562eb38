"""An in-memory store that ships in the package: the fake every contract test also runs."""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator

from lambent.store.interface import Doc, Row


class MemoryStore:
    def __init__(self) -> None:
        self._data: dict[tuple[str, str, str], tuple[str, Doc]] = {}
        self._lock = threading.RLock()
        self._snapshots: list[dict[tuple[str, str, str], tuple[str, Doc]]] = []

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            outer = not self._snapshots
            if outer:
                self._snapshots.append(copy.deepcopy(self._data))
            try:
                yield
            except BaseException:
                if outer:
                    self._data = self._snapshots.pop()
                raise
            if outer:
                self._snapshots.pop()

    def get(self, kind: str, account: str, key: str) -> Doc | None:
        with self._lock:
            found = self._data.get((kind, account, key))
            return copy.deepcopy(found[1]) if found else None

    def put(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> None:
        with self._lock:
            self._data[(kind, account, key)] = (parent, copy.deepcopy(doc))

    def insert(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> bool:
        with self._lock:
            if (kind, account, key) in self._data:
                return False
            self.put(kind, account, key, doc, parent)
            return True

    def delete(self, kind: str, account: str, key: str) -> bool:
        with self._lock:
            return self._data.pop((kind, account, key), None) is not None

    def delete_children(self, kind: str, account: str, parent: str) -> int:
        with self._lock:
            doomed = [
                k for k, (p, _) in self._data.items() if k[:2] == (kind, account) and p == parent
            ]
            for k in doomed:
                del self._data[k]
            return len(doomed)

    def list(
        self,
        kind: str,
        account: str,
        *,
        parent: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Row]:
        with self._lock:
            rows = [
                Row(k[2], copy.deepcopy(doc))
                for k, (p, doc) in self._data.items()
                if k[0] == kind
                and k[1] == account
                and (parent is None or p == parent)
                and (after is None or k[2] > after)
            ]
        rows.sort(key=lambda r: r.key)
        return rows[:limit] if limit is not None else rows

    def scan(self, kind: str) -> Iterator[tuple[str, Row]]:
        with self._lock:
            items = sorted((k, v) for k, v in self._data.items() if k[0] == kind)
        for (_, account, key), (_, doc) in items:
            yield account, Row(key, copy.deepcopy(doc))

    def close(self) -> None:
        pass
