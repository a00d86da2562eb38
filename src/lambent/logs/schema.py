"""The log database: its own SQLite file in WAL mode, apart from the control-plane store.

Events carry their group and stream ids and their UTF-8 size, so retention can delete by
time or count and keep the groups' and streams' stored-byte totals right without
re-reading messages. `seq` (AUTOINCREMENT) is never reused, so event ids stay unique.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS log_groups (
    id             INTEGER PRIMARY KEY,
    account        TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    created_ms     INTEGER NOT NULL,
    retention_days INTEGER,
    stored_bytes   INTEGER NOT NULL DEFAULT 0,
    event_count    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, name)
);
CREATE TABLE IF NOT EXISTS log_streams (
    id                INTEGER PRIMARY KEY,
    group_id          INTEGER NOT NULL,
    name              TEXT    NOT NULL,
    created_ms        INTEGER NOT NULL,
    first_event_ms    INTEGER,
    last_event_ms     INTEGER,
    last_ingestion_ms INTEGER,
    stored_bytes      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, name)
);
CREATE INDEX IF NOT EXISTS log_streams_by_last ON log_streams (group_id, last_event_ms, name);
CREATE TABLE IF NOT EXISTS log_events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id  INTEGER NOT NULL,
    stream_id INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    ingested  INTEGER NOT NULL,
    size      INTEGER NOT NULL,
    message   TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS log_events_by_stream ON log_events (stream_id, ts, seq);
CREATE INDEX IF NOT EXISTS log_events_by_group ON log_events (group_id, ts, seq);
"""


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def create(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
