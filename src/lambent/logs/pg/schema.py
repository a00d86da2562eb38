"""The log tables in PostgreSQL (component "logs"), shaped like the SQLite ones (schema.py
one level up) so both backends keep the same counters and the same event keys.

Names are `COLLATE "C"`: ordering (DescribeLogGroups/Streams pages) and lower() are
bytewise/ASCII as in SQLite, whatever the database's default collation. `seq` comes from
one identity sequence, so event ids stay unique across every node that writes. No foreign
keys: a writer checks its cached ids under the group's row lock instead, which costs one
query per batch rather than one lookup per event.
"""

from __future__ import annotations

from lambent.pg.migrations import Migration

COMPONENT = "logs"

MIGRATIONS = [
    Migration(
        1,
        """
CREATE TABLE logs_groups (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account        text COLLATE "C" NOT NULL,
    name           text COLLATE "C" NOT NULL,
    created_ms     bigint NOT NULL,
    retention_days integer,
    stored_bytes   bigint NOT NULL DEFAULT 0,
    event_count    bigint NOT NULL DEFAULT 0,
    UNIQUE (account, name)
);
CREATE TABLE logs_streams (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id          bigint NOT NULL,
    name              text COLLATE "C" NOT NULL,
    created_ms        bigint NOT NULL,
    first_event_ms    bigint,
    last_event_ms     bigint,
    last_ingestion_ms bigint,
    stored_bytes      bigint NOT NULL DEFAULT 0,
    UNIQUE (group_id, name)
);
CREATE INDEX logs_streams_by_last ON logs_streams (group_id, (coalesce(last_event_ms, 0)), name);
CREATE TABLE logs_events (
    seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id  bigint NOT NULL,
    stream_id bigint NOT NULL,
    ts        bigint NOT NULL,
    ingested  bigint NOT NULL,
    size      integer NOT NULL,
    message   text NOT NULL
);
CREATE INDEX logs_events_by_stream ON logs_events (stream_id, ts, seq);
CREATE INDEX logs_events_by_group ON logs_events (group_id, ts, seq);
""",
    ),
]
