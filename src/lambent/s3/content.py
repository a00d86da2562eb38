"""Object bytes, stored once per SHA-256 under the data dir and counted by reference.

Writing the bytes happens outside any store transaction (it is the slow part); taking and
dropping references happens inside the transaction that changes the object metadata. A file
whose count reaches zero is unlinked afterwards, in a transaction of its own that checks the
count is still zero, while a writer that finds its file gone (unlinked in between) writes it
again from the bytes it holds. So bytes are never lost to a racing delete, and never kept
once no object version points at them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from lambent.blocking import BlockingWork
from lambent.s3.model import Content
from lambent.store.interface import Store

KIND = "s3_content"
_GLOBAL = ""  # content is shared by every account: it is found only through object metadata


class ContentMissing(Exception):
    """The bytes of a version were removed while it was being copied."""


class ContentStore:
    def __init__(self, root: Path, store: Store, work: BlockingWork) -> None:
        self._dir = root / "content"
        self._tmp = root / "tmp"
        for d in (self._dir, self._tmp):
            d.mkdir(parents=True, exist_ok=True)
        self._store = store
        self.work = work  # file reads and writes run here, off the event loop

    def path(self, sha256: str) -> Path:
        return self._dir / sha256[:2] / sha256

    def write(self, data: bytes, *, sha256: str | None = None) -> Content:
        """Hash and store the bytes (not yet referenced). Safe to run on a worker thread."""
        digest = sha256 or hashlib.sha256(data).hexdigest()
        content = Content(digest, len(data), hashlib.md5(data).hexdigest())
        if not self.path(content.sha256).exists():
            self._write_file(content.sha256, data)
        return content

    def _write_file(self, sha256: str, data: bytes) -> None:
        target = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def acquire(self, content: Content, data: bytes | None) -> None:
        """Count one more reference (call inside the metadata transaction)."""
        doc = await self._store.get(KIND, _GLOBAL, content.sha256) or {"refs": 0}
        doc["refs"] = int(doc["refs"]) + 1
        await self._store.put(KIND, _GLOBAL, content.sha256, doc)
        if not self.path(content.sha256).exists():
            if data is None:
                raise ContentMissing(content.sha256)
            await self.work.run(self._write_file, content.sha256, data)

    async def release(self, sha256: str) -> bool:
        """Drop one reference (inside the transaction); True when none is left."""
        doc = await self._store.get(KIND, _GLOBAL, sha256)
        refs = int(doc["refs"]) - 1 if doc else 0
        if refs > 0:
            await self._store.put(KIND, _GLOBAL, sha256, {"refs": refs})
            return False
        await self._store.delete(KIND, _GLOBAL, sha256)
        return True

    async def collect(self, unreferenced: list[str]) -> None:
        """Unlink files whose count reached zero, unless a writer took them back meanwhile."""
        for sha256 in unreferenced:
            async with self._store.transaction():
                if await self._store.get(KIND, _GLOBAL, sha256) is None:
                    await self.work.run(self.path(sha256).unlink, missing_ok=True)

    def read(self, sha256: str, start: int = 0, length: int | None = None) -> bytes:
        with open(self.path(sha256), "rb") as fh:
            if start:
                fh.seek(start)
            return fh.read() if length is None else fh.read(length)
