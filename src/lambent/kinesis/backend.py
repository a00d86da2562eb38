"""The storage interface of the stream service, asynchronous, with one contract suite
(tests/contract/test_kinesis_backend.py) for its implementations: SQLite (`sqlite.py`) and
PostgreSQL (`postgres.py`, shared by a cluster's nodes).

A backend keeps streams and their records. What must be atomic with the data is its job:
each shard's positions are assigned in append order (0, 1, 2, ... per shard, never reused
while the stream lives), so concurrent appends on any node keep one order per shard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lambent.kinesis.model import NewRecord, StoredRecord, StreamRecord


class StreamBackend(Protocol):
    async def create_stream(self, record: StreamRecord) -> bool:
        """Store the stream; False if one of that account and name exists."""
        ...

    async def get_stream(self, account: str, name: str) -> StreamRecord | None: ...

    async def list_streams(self, account: str, after: str, limit: int) -> list[StreamRecord]:
        """Streams of the account in name order, names after `after`."""
        ...

    async def set_retention(self, stream_id: str, hours: int) -> bool: ...

    async def delete_stream(self, stream_id: str) -> bool:
        """Delete the stream and its records; False if it is gone."""
        ...

    async def append(self, stream_id: str, records: Sequence[NewRecord]) -> list[int]:
        """Store the records durably in one transaction; each one's position in its shard,
        in the order given. StreamNotFound-free: an unknown stream raises KeyError."""
        ...

    async def read(
        self, stream_id: str, shard: int, position: int, limit: int, since_ms: int
    ) -> list[StoredRecord]:
        """Up to `limit` records of the shard from `position` on, arrived at or after
        `since_ms` (retention), in order."""
        ...

    async def end(self, stream_id: str, shard: int) -> int:
        """The next position the shard will assign (LATEST)."""
        ...

    async def position_at(self, stream_id: str, shard: int, at_ms: int) -> int:
        """The first position that arrived at or after `at_ms` (else the end)."""
        ...

    async def trim(self, stream_id: str, before_ms: int) -> int:
        """Delete records that arrived before `before_ms`; how many."""
        ...

    async def get_checkpoint(self, mapping: str, stream_id: str, shard: int) -> int | None:
        """Where an event source mapping resumes reading the shard, if it has begun."""
        ...

    async def set_checkpoint(self, mapping: str, stream_id: str, shard: int, position: int) -> None:
        """Durably record where the mapping resumes (its batches before it settled)."""
        ...

    async def close(self) -> None: ...
