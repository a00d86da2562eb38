"""Blobs as files under one directory: the single-node store and each node's local cache.

A blob is written to a temporary file in the same file system, synced, then renamed into
place, so a reader (or a crash) never sees half of one; two writers of the same content
both rename a complete file, and the last rename wins with identical bytes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lambent.blobs.interface import BlobMissing, chunks


class FileBlobs:
    def __init__(self, directory: Path, tmp: Path) -> None:
        """`tmp` must be on the same file system as `directory` (for the atomic rename)."""
        self._dir = directory
        self._tmp = tmp
        for d in (directory, tmp):
            d.mkdir(parents=True, exist_ok=True)

    def _pieces(self, data: bytes) -> Iterator[memoryview]:
        """The pieces a put writes (a seam for tests that fail a write half-way)."""
        return chunks(data)

    def path(self, sha256: str) -> Path:
        return self._dir / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def put(self, sha256: str, data: bytes) -> bool:
        target = self.path(sha256)
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as fh:
                for piece in self._pieces(data):
                    fh.write(piece)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def get(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise BlobMissing(sha256) from exc

    def read(self, sha256: str, start: int = 0, length: int | None = None) -> bytes:
        try:
            with open(self.path(sha256), "rb") as fh:
                if start:
                    fh.seek(start)
                return fh.read() if length is None else fh.read(length)
        except FileNotFoundError as exc:
            raise BlobMissing(sha256) from exc

    def remove(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)
