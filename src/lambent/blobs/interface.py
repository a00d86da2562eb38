"""Content-addressed bytes, named by their SHA-256, shared by whoever holds the same content.

Two implementations: files under a directory (one node, and each node's local cache) and
PostgreSQL in chunks (every node of a cluster, `postgres.py`). Every method blocks on disk
or network, so callers run them on the App's blocking pool (`BlockingWork`), never on the
event loop: a 50 MB zip then costs a pool thread, not a stall of every request in flight.
Implementations are thread-safe, and a put is atomic: a reader sees all of a blob or none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

# The unit bytes are written and read in: big enough that a 50 MB zip is 50 steps, small
# enough that a step never holds much memory twice (PostgreSQL chunks are this size too).
CHUNK_SIZE = 1024 * 1024


class BlobMissing(Exception):
    """No blob has this SHA-256 (never stored, or removed)."""


class Blobs(Protocol):
    def put(self, sha256: str, data: bytes) -> bool:
        """Store `data` under `sha256` (the caller hashed it); idempotent. True if this call
        stored it, False if it was already there."""
        ...

    def get(self, sha256: str) -> bytes:
        """The whole blob; BlobMissing if there is none."""
        ...

    def read(self, sha256: str, start: int = 0, length: int | None = None) -> bytes:
        """A byte range of the blob (S3's Range); BlobMissing if there is none."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def remove(self, sha256: str) -> None:
        """Forget the blob (nothing if there is none)."""
        ...


def chunks(data: bytes, size: int = CHUNK_SIZE) -> Iterator[memoryview]:
    """`data` in `size` slices, without copying it."""
    view = memoryview(data)
    for offset in range(0, len(view), size):
        yield view[offset : offset + size]
    if not view:
        yield view  # an empty blob is one empty chunk, so it exists like any other
