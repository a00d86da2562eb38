"""The embedded default store: one SQLite file in WAL mode in the data dir."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from lambent.store.interface import Doc, Row

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind    TEXT NOT NULL,
    account TEXT NOT NULL,
    key     TEXT NOT NULL,
    parent  TEXT NOT NULL DEFAULT '',
    doc     TEXT NOT NULL,
    PRIMARY KEY (kind, account, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS docs_parent ON docs (kind, account, parent, key);
"""


def connect(path: Path, *, synchronous: str = "NORMAL") -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class SqliteStore:
    """Thread-safe: one connection guarded by a re-entrant lock held for a whole transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(path)
        self._conn.executescript(SCHEMA)
        self._lock = threading.RLock()
        self._depth = 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._conn.execute("COMMIT")

    def get(self, kind: str, account: str, key: str) -> Doc | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT doc FROM docs WHERE kind=? AND account=? AND key=?", (kind, account, key)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO docs (kind, account, key, parent, doc) VALUES (?,?,?,?,?) "
                "ON CONFLICT (kind, account, key) DO UPDATE SET doc=excluded.doc, "
                "parent=excluded.parent",
                (kind, account, key, parent, json.dumps(doc, separators=(",", ":"))),
            )

    def insert(self, kind: str, account: str, key: str, doc: Doc, parent: str = "") -> bool:
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO docs (kind, account, key, parent, doc) VALUES (?,?,?,?,?)",
                (kind, account, key, parent, json.dumps(doc, separators=(",", ":"))),
            )
            return cur.rowcount == 1

    def delete(self, kind: str, account: str, key: str) -> bool:
        with self._lock:
            cur = self._conn.execute(
                "DELETE FROM docs WHERE kind=? AND account=? AND key=?", (kind, account, key)
            )
            return cur.rowcount > 0

    def delete_children(self, kind: str, account: str, parent: str) -> int:
        with self._lock:
            cur = self._conn.execute(
                "DELETE FROM docs WHERE kind=? AND account=? AND parent=?", (kind, account, parent)
            )
            return cur.rowcount

    def list(
        self,
        kind: str,
        account: str,
        *,
        parent: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Row]:
        sql = "SELECT key, doc FROM docs WHERE kind=? AND account=?"
        args: list[object] = [kind, account]
        if parent is not None:
            sql += " AND parent=?"
            args.append(parent)
        if after is not None:
            sql += " AND key>?"
            args.append(after)
        sql += " ORDER BY key"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [Row(key, json.loads(doc)) for key, doc in rows]

    def scan(self, kind: str) -> Iterator[tuple[str, Row]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT account, key, doc FROM docs WHERE kind=? ORDER BY account, key", (kind,)
            ).fetchall()
        for account, key, doc in rows:
            yield account, Row(key, json.loads(doc))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
