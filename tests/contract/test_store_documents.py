"""The Store contract, documents: get/put/insert/delete, listing order and pages, parents,
delete_children and scan. Every implementation in `stores.BACKENDS` must pass it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambent.store.interface import Store
from tests.contract.stores import DURABLE, Backend, run_with

A1 = "111111111111"
A2 = "222222222222"


def test_get_of_a_missing_document_is_none(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        assert await store.get("fn", A1, "nope") is None

    run_with(backend, tmp_path, body)


def test_a_document_round_trips_as_json(backend: Backend, tmp_path: Path) -> None:
    doc = {
        "s": "héllo ✓",
        "i": 7,
        "f": 1.5,
        "b": True,
        "n": None,
        "l": [1, "two", {"three": 3}],
        "t": (1, 2),
        "d": {"nested": {"deep": []}},
    }

    async def body(store: Store) -> None:
        await store.put("fn", A1, "k", doc)
        got = await store.get("fn", A1, "k")
        # JSON has no tuples: every implementation hands back a list, as SQLite does.
        assert got == {**doc, "t": [1, 2]}

    run_with(backend, tmp_path, body)


def test_a_document_comes_back_exactly_as_written(backend: Backend, tmp_path: Path) -> None:
    """Key order (what a response shows in order) and characters JSON allows, NUL too."""
    doc = {"zeta": 1, "a": {"y": 2, "b": 3}, "mid": "nul\x00 and \u2028 and 😀", "": "empty"}

    async def body(store: Store) -> None:
        await store.put("fn", A1, "k", doc)
        got = await store.get("fn", A1, "k")
        assert got is not None
        assert list(got) == ["zeta", "a", "mid", ""]
        assert list(got["a"]) == ["y", "b"]
        assert got == doc
        assert [r.doc for r in await store.list("fn", A1)] == [doc]

    run_with(backend, tmp_path, body)


def test_keys_list_in_binary_order_beyond_ascii(backend: Backend, tmp_path: Path) -> None:
    """Code point order (UTF-8's byte order), whatever the server's locale: uppercase
    before lowercase, accents after z, astral characters last."""
    keys = ["b", "Z", "a", "é", "z", "ä", "ÿ", "Ā", "日本", "😀", "_", "-", "A-1", "a-1", "~"]

    async def body(store: Store) -> None:
        for key in keys:
            await store.put("fn", A1, key, {}, parent="ü")
            await store.put("fn", key, "k", {})
        expected = sorted(keys)
        assert expected[:3] == ["-", "A-1", "Z"]
        assert [r.key for r in await store.list("fn", A1)] == expected
        assert [r.key for r in await store.list("fn", A1, parent="ü")] == expected
        after = [r.key for r in await store.list("fn", A1, after="z", limit=3)]
        assert after == ["~", "ä", "é"]
        scanned = [account for account, _ in await store.scan("fn")]
        assert scanned == sorted([A1] * len(keys) + keys)

    run_with(backend, tmp_path, body)


def test_a_read_is_a_copy_the_caller_may_change(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        doc = {"tags": {"a": "1"}}
        await store.put("fn", A1, "k", doc)
        doc["tags"]["a"] = "changed after put"
        got = await store.get("fn", A1, "k")
        assert got == {"tags": {"a": "1"}}
        got["tags"]["b"] = "2"
        assert await store.get("fn", A1, "k") == {"tags": {"a": "1"}}
        listed = await store.list("fn", A1)
        listed[0].doc["tags"].clear()
        assert await store.get("fn", A1, "k") == {"tags": {"a": "1"}}

    run_with(backend, tmp_path, body)


def test_put_replaces_the_document_and_its_parent(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        await store.put("ver", A1, "k", {"v": 1}, parent="p1")
        await store.put("ver", A1, "k", {"v": 2}, parent="p2")
        assert await store.get("ver", A1, "k") == {"v": 2}
        assert await store.list("ver", A1, parent="p1") == []
        assert [r.key for r in await store.list("ver", A1, parent="p2")] == ["k"]

    run_with(backend, tmp_path, body)


def test_insert_writes_only_if_absent(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        assert await store.insert("fn", A1, "k", {"v": "first"}) is True
        assert await store.insert("fn", A1, "k", {"v": "second"}) is False
        assert await store.get("fn", A1, "k") == {"v": "first"}
        # The same key in another account or kind is another document.
        assert await store.insert("fn", A2, "k", {"v": "other account"}) is True
        assert await store.insert("alias", A1, "k", {"v": "other kind"}) is True

    run_with(backend, tmp_path, body)


def test_delete_says_whether_there_was_a_document(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        await store.put("fn", A1, "k", {})
        await store.put("fn", A2, "k", {})
        assert await store.delete("fn", A1, "k") is True
        assert await store.delete("fn", A1, "k") is False
        assert await store.get("fn", A1, "k") is None
        assert await store.get("fn", A2, "k") == {}

    run_with(backend, tmp_path, body)


def test_list_is_in_binary_key_order(backend: Backend, tmp_path: Path) -> None:
    # Binary (code point / UTF-8 byte) order: digits < upper case < '_' < lower case; a
    # prefix sorts before its extensions; '-' (0x2d) sorts before ':' (0x3a) and digits.
    keys = ["cp-1", "cp-1:00000002", "cp-1-p0", "Zeta", "alpha", "cp_1", "cp-10", "é", "a"]

    async def body(store: Store) -> None:
        for key in keys:
            await store.put("fn", A1, key, {"key": key})
        rows = await store.list("fn", A1)
        assert [r.key for r in rows] == sorted(keys, key=lambda k: k.encode())
        assert all(r.doc == {"key": r.key} for r in rows)

    run_with(backend, tmp_path, body)


def test_list_pages_with_after_and_limit(backend: Backend, tmp_path: Path) -> None:
    keys = [f"f-{i:03d}" for i in range(23)]

    async def body(store: Store) -> None:
        for key in reversed(keys):
            await store.put("fn", A1, key, {})
        seen: list[str] = []
        after: str | None = None
        while True:
            page = await store.list("fn", A1, after=after, limit=5)
            seen += [r.key for r in page]
            if len(page) < 5:
                break
            after = page[-1].key
        assert seen == keys
        assert [r.key for r in await store.list("fn", A1, after="f-020")] == ["f-021", "f-022"]
        # `after` is exclusive even when it names no document.
        assert [r.key for r in await store.list("fn", A1, after="f-020x", limit=1)] == ["f-021"]
        assert await store.list("fn", A1, limit=0) == []

    run_with(backend, tmp_path, body)


def test_list_keeps_to_its_kind_account_and_parent(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        await store.put("ver", A1, "f:1", {}, parent="f")
        await store.put("ver", A1, "f:2", {}, parent="f")
        await store.put("ver", A1, "g:1", {}, parent="g")
        await store.put("ver", A2, "f:3", {}, parent="f")
        await store.put("alias", A1, "f:live", {}, parent="f")
        await store.put("ver", A1, "orphan", {})
        assert [r.key for r in await store.list("ver", A1, parent="f")] == ["f:1", "f:2"]
        assert [r.key for r in await store.list("ver", A1)] == ["f:1", "f:2", "g:1", "orphan"]
        assert [r.key for r in await store.list("ver", A1, parent="")] == ["orphan"]
        assert [r.key for r in await store.list("ver", A1, parent="f", after="f:1")] == ["f:2"]
        assert [r.key for r in await store.list("ver", A2)] == ["f:3"]
        assert await store.list("ver", "333333333333") == []

    run_with(backend, tmp_path, body)


def test_delete_children_removes_one_parents_documents(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        for i in range(3):
            await store.put("ver", A1, f"f:{i}", {}, parent="f")
        await store.put("ver", A1, "g:1", {}, parent="g")
        await store.put("ver", A2, "f:9", {}, parent="f")
        await store.put("alias", A1, "f:live", {}, parent="f")
        assert await store.delete_children("ver", A1, "f") == 3
        assert await store.delete_children("ver", A1, "f") == 0
        assert [r.key for r in await store.list("ver", A1)] == ["g:1"]
        assert [r.key for r in await store.list("ver", A2)] == ["f:9"]
        assert [r.key for r in await store.list("alias", A1)] == ["f:live"]

    run_with(backend, tmp_path, body)


def test_scan_crosses_accounts_in_order(backend: Backend, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        await store.put("key", A2, "b", {"n": 1})
        await store.put("key", A1, "z", {"n": 2})
        await store.put("key", A1, "a", {"n": 3})
        await store.put("key", "", "global", {"n": 4})
        await store.put("other", A1, "x", {"n": 5})
        scanned = [(account, row.key, row.doc["n"]) for account, row in await store.scan("key")]
        assert scanned == [("", "global", 4), (A1, "a", 3), (A1, "z", 2), (A2, "b", 1)]
        assert await store.scan("nothing") == []

    run_with(backend, tmp_path, body)


@pytest.mark.parametrize("backend", DURABLE, indirect=True)
def test_committed_documents_survive_a_reopen(backend: Backend, tmp_path: Path) -> None:
    async def write(store: Store) -> None:
        await store.put("fn", A1, "plain", {"v": 1})
        async with store.transaction():
            await store.put("fn", A1, "in-tx", {"v": 2}, parent="p")
            await store.insert("fn", A1, "inserted", {"v": 3})

    async def read(store: Store) -> list[tuple[str, object]]:
        return [(r.key, r.doc["v"]) for r in await store.list("fn", A1)]

    run_with(backend, tmp_path, write)
    assert run_with(backend, tmp_path, read) == [("in-tx", 2), ("inserted", 3), ("plain", 1)]
