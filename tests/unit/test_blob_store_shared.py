"""The code BlobStore over a shared store: what it fetches is checked against its name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from lambent.blobs.files import FileBlobs
from lambent.blobs.interface import BlobMissing
from lambent.blobs.store import BlobStore


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
