"""The code BlobStore over a shared store: a zip is fetched once, and checked against its
name before it is cached."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lambent.blobs.files import FileBlobs
from lambent.blobs.interface import BlobMissing
from lambent.blobs.store import BlobStore

HANG_S = 60.0  # a bound against hangs only


def test_bytes_that_do_not_hash_to_their_name_are_not_cached(tmp_path: Path) -> None:
    shared = FileBlobs(tmp_path / "shared", tmp_path / "tmp")
    name = hashlib.sha256(b"the real zip").hexdigest()
    shared.put(name, b"something else")  # a corrupted or tampered copy
    node = BlobStore(tmp_path / "node", max_unzipped=1 << 20, shared=shared)
    with pytest.raises(BlobMissing):
        node.read(name)
    assert not node.path(name).exists()


def test_without_a_shared_store_a_missing_zip_is_missing(tmp_path: Path) -> None:
    node = BlobStore(tmp_path / "node", max_unzipped=1 << 20)
    with pytest.raises(BlobMissing):
        node.read("ab" * 32)
    assert not node.exists("ab" * 32)


class SlowShared(FileBlobs):
    """A shared store whose reads wait at a gate and are counted."""

    def __init__(self, root: Path) -> None:
        super().__init__(root / "shared", root / "tmp")
        self.gets = 0
        self.reading = threading.Event()
        self.gate = threading.Event()

    def get(self, sha256: str) -> bytes:
        self.gets += 1
        self.reading.set()
        assert self.gate.wait(HANG_S)
        return super().get(sha256)


def test_a_zip_asked_for_by_many_threads_at_once_is_fetched_once(tmp_path: Path) -> None:
    shared = SlowShared(tmp_path)
    data = b"zip bytes"
    name = hashlib.sha256(data).hexdigest()
    shared.put(name, data)
    node = BlobStore(tmp_path / "node", max_unzipped=1 << 20, shared=shared)
    with ThreadPoolExecutor(4) as pool:
        reads = [pool.submit(node.read, name) for _ in range(4)]
        assert shared.reading.wait(HANG_S)
        shared.gate.set()
        assert [r.result(HANG_S) for r in reads] == [data] * 4
    assert shared.gets == 1
