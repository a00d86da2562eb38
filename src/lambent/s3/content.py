"""Object bytes, stored once per SHA-256 and counted by reference.

On one node the bytes are files under the data dir and the counts are store documents.
Writing the bytes happens outside any store transaction (it is the slow part); taking and
dropping references happens inside the transaction that changes the object metadata. A file
whose count reaches zero is unlinked afterwards, in a transaction of its own that checks the
count is still zero, while a writer that finds its file gone (unlinked in between) writes it
again from the bytes it holds. So bytes are never lost to a racing delete, and never kept
once no object version points at them.

In a cluster (`shared`, PostgreSQL) the bytes and their count live together in the blob
store, namespace "s3", so the count and the bytes' existence change in one PostgreSQL
transaction whichever node writes: a reference is taken (`pin`) inside the metadata
transaction, before it commits, and dropped (`unpin`) only after the metadata transaction
that stopped using the bytes committed, so a node never deletes bytes a committed version
points at. A metadata transaction that fails after its pin, or a node that dies between a
commit and its unpins, leaves a count one too high: those bytes are kept, never lost.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from lambent.blobs.files import FileBlobs
from lambent.blobs.interface import BlobMissing
from lambent.blocking import BlockingWork
from lambent.s3.model import Content
from lambent.store.interface import Store

if TYPE_CHECKING:
    from lambent.blobs.postgres import PgBlobs  # psycopg: cluster mode only

KIND = "s3_content"
_GLOBAL = ""  # content is shared by every account: it is found only through object metadata


class ContentMissing(Exception):
    """The bytes of a version were removed while it was being copied."""


class ContentStore:
    def __init__(
        self, root: Path, store: Store, work: BlockingWork, shared: PgBlobs | None = None
    ) -> None:
        self._files = FileBlobs(root / "content", root / "tmp")
        self._shared = shared
        self._store = store
        self.work = work  # reads and writes of bytes run here, off the event loop

    def path(self, sha256: str) -> Path:
        """Where a node's own bytes are (one node only: a cluster keeps them in PostgreSQL)."""
        return self._files.path(sha256)

    def write(self, data: bytes, *, sha256: str | None = None) -> Content:
        """Hash and store the bytes (not yet referenced). Blocks: run it on `work`."""
        digest = sha256 or hashlib.sha256(data).hexdigest()
        content = Content(digest, len(data), hashlib.md5(data).hexdigest())
        (self._shared or self._files).put(content.sha256, data)
        return content

    async def acquire(self, content: Content, data: bytes | None) -> None:
        """Count one more reference (call inside the metadata transaction)."""
        if self._shared is not None:
            try:
                await self.work.run(self._shared.pin, content.sha256, data)
            except BlobMissing as exc:
                raise ContentMissing(content.sha256) from exc
            return
        doc = await self._store.get(KIND, _GLOBAL, content.sha256) or {"refs": 0}
        doc["refs"] = int(doc["refs"]) + 1
        await self._store.put(KIND, _GLOBAL, content.sha256, doc)
        if not self._files.exists(content.sha256):
            if data is None:
                raise ContentMissing(content.sha256)
            await self.work.run(self._files.put, content.sha256, data)

    async def release(self, sha256: str) -> bool:
        """Drop one reference (inside the transaction); True when `collect` must see it:
        none is left on one node; always in a cluster, whose count drops after the commit."""
        if self._shared is not None:
            return True
        doc = await self._store.get(KIND, _GLOBAL, sha256)
        refs = int(doc["refs"]) - 1 if doc else 0
        if refs > 0:
            await self._store.put(KIND, _GLOBAL, sha256, {"refs": refs})
            return False
        await self._store.delete(KIND, _GLOBAL, sha256)
        return True

    async def collect(self, unreferenced: list[str]) -> None:
        """After the commit: remove bytes whose count reached zero, unless a writer took
        them back meanwhile (in a cluster: drop each released reference now)."""
        for sha256 in unreferenced:
            if self._shared is not None:
                await self.work.run(self._shared.unpin, sha256)
                continue
            async with self._store.transaction():
                if await self._store.get(KIND, _GLOBAL, sha256) is None:
                    await self.work.run(self._files.remove, sha256)

    def read(self, sha256: str, start: int = 0, length: int | None = None) -> bytes:
        """A range of the bytes (BlobMissing if they are gone). Blocks: run it on `work`."""
        return (self._shared or self._files).read(sha256, start, length)
