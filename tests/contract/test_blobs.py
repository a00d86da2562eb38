"""The blob contract, for files and PostgreSQL alike (tests/contract/blob_stores.py).

Content-addressed bytes shared by the nodes of a cluster: put is idempotent and atomic,
two nodes putting the same content at once both succeed, a node that lacks a zip fetches
it once and caches it, and a put that fails half-way leaves nothing visible.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lambent.blobs.interface import CHUNK_SIZE, BlobMissing, chunks
from lambent.blobs.store import BlobStore
from tests.contract.blob_stores import NewNode, file_nodes, pg_nodes

HANG_S = 60.0  # a bound against hangs only


@pytest.fixture(params=["files", pytest.param("postgres", marks=pytest.mark.services)])
def new_node(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewNode]:
    if request.param == "files":
        with file_nodes(tmp_path) as make:
            yield make
    else:
        url: str = request.getfixturevalue("pg_url")
        with pg_nodes(url) as make:
            yield make


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_get_exists_remove(new_node: NewNode) -> None:
    blobs = new_node()
    data = b"hello, blobs"
    assert not blobs.exists(sha(data))
    with pytest.raises(BlobMissing):
        blobs.get(sha(data))
    assert blobs.put(sha(data), data) is True
    assert blobs.exists(sha(data))
    assert blobs.get(sha(data)) == data
    assert blobs.read(sha(data), 7, 5) == b"blobs"
    assert blobs.read(sha(data), 7) == b"blobs"
    blobs.remove(sha(data))
    assert not blobs.exists(sha(data))
    with pytest.raises(BlobMissing):
        blobs.read(sha(data), 0, 1)
    blobs.remove(sha(data))  # removing what is gone is nothing


def test_an_empty_blob_exists_like_any_other(new_node: NewNode) -> None:
    blobs = new_node()
    blobs.put(sha(b""), b"")
    assert blobs.exists(sha(b""))
    assert blobs.get(sha(b"")) == b""


def test_putting_the_same_content_again_is_a_no_op(new_node: NewNode) -> None:
    blobs = new_node()
    data = os.urandom(3 * CHUNK_SIZE // 2)
    assert blobs.put(sha(data), data) is True
    assert blobs.put(sha(data), data) is False
    assert blobs.get(sha(data)) == data


def test_a_20_mb_blob_round_trips_and_reads_in_ranges(new_node: NewNode) -> None:
    blobs = new_node()
    data = os.urandom(20 * 1024 * 1024 + 123)
    blobs.put(sha(data), data)
    assert blobs.get(sha(data)) == data
    across = CHUNK_SIZE - 10  # a range over a chunk boundary
    assert blobs.read(sha(data), across, 20) == data[across : across + 20]
    assert blobs.read(sha(data), len(data) - 5) == data[-5:]
    assert blobs.read(sha(data), len(data) - 5, 100) == data[-5:]
    assert new_node().get(sha(data)) == data  # and another node reads it whole


def test_two_nodes_putting_the_same_content_at_once_both_succeed(new_node: NewNode) -> None:
    nodes = [new_node(), new_node()]
    data = os.urandom(5 * CHUNK_SIZE)
    start = threading.Barrier(2)

    def put(i: int) -> bool:
        start.wait(HANG_S)
        return nodes[i].put(sha(data), data)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(put, range(2), timeout=HANG_S))
    assert True in results
    for node in nodes:
        assert node.get(sha(data)) == data


def test_a_put_that_fails_half_way_is_never_visible(new_node: NewNode) -> None:
    writer, reader = new_node(), new_node()
    data = os.urandom(4 * CHUNK_SIZE)
    halfway, fail = threading.Event(), threading.Event()

    def failing(payload: bytes) -> Iterator[memoryview]:
        for i, piece in enumerate(chunks(payload)):
            if i == 2:
                halfway.set()
                assert fail.wait(HANG_S)
                raise OSError("the writer died")
            yield piece

    writer._pieces = failing  # type: ignore[attr-defined]
    with ThreadPoolExecutor(1) as pool:
        put = pool.submit(writer.put, sha(data), data)
        assert halfway.wait(HANG_S)
        assert not reader.exists(sha(data))  # half written: not there for anyone
        with pytest.raises(BlobMissing):
            reader.get(sha(data))
        fail.set()
        with pytest.raises(OSError):
            put.result(HANG_S)
    assert not reader.exists(sha(data))
    assert not writer.exists(sha(data))
    assert reader.put(sha(data), data) is True  # and nothing stands in the way of a put
    assert writer.get(sha(data)) == data


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    return buf.getvalue()


def test_a_node_without_the_code_fetches_it_once_and_caches_it(
    new_node: NewNode, tmp_path: Path
) -> None:
    first = BlobStore(tmp_path / "a", max_unzipped=1 << 30, shared=new_node())
    shared_b = new_node()
    second = BlobStore(tmp_path / "b", max_unzipped=1 << 30, shared=shared_b)
    code = _zip({"handler.py": b"def handler(e, c):\n    return 42\n"})
    info = first.put(code)
    assert not second.path(info.sha256_hex).exists()
    assert second.exists(info.sha256_hex)
    assert (second.extracted(info.sha256_hex) / "handler.py").read_bytes().startswith(b"def")
    assert second.path(info.sha256_hex).read_bytes() == code  # cached in b's data dir
    shared_b.remove(info.sha256_hex)  # the shared copy is gone: b still has its own
    assert second.read(info.sha256_hex) == code
    with pytest.raises(BlobMissing):
        BlobStore(tmp_path / "c", max_unzipped=1 << 30, shared=new_node()).read(info.sha256_hex)
