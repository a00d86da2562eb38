"""Function environment variables are sealed in the store and plain everywhere else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambent.auth.sealing import Sealer, SealError, is_sealed
from lambent.functions.repository import FUNCTION, VERSION, FunctionRepository, version_key
from lambent.store.memory import MemoryStore

ACCOUNT = "111122223333"


def version_doc(name: str, variables: dict[str, str]) -> dict[str, Any]:
    config = {"FunctionName": name, "Environment": {"Variables": variables}}
    return {"config": config, "code": {"sha256_hex": "00", "size": 1}, "layers": []}


def function_doc(name: str, variables: dict[str, str]) -> dict[str, Any]:
    return {"region": "us-east-1", "latest": version_doc(name, variables)}


async def test_written_sealed_and_read_plain() -> None:
    store, sealer = MemoryStore(), Sealer.generate()
    repo = FunctionRepository(store, sealer)
    doc = function_doc("f", {"TOKEN": "s3cret"})
    await repo.put_function(ACCOUNT, "f", doc)
    await repo.put_version(ACCOUNT, "f", "1", doc["latest"])
    assert doc["latest"]["config"]["Environment"]["Variables"] == {"TOKEN": "s3cret"}

    raw_fn = await store.get(FUNCTION, ACCOUNT, "f")
    raw_v = await store.get(VERSION, ACCOUNT, version_key("f", 1))
    assert raw_fn is not None and raw_v is not None
    for raw in (raw_fn["latest"], raw_v):
        assert is_sealed(raw["config"]["Environment"]["Variables"])
        assert "s3cret" not in json.dumps(raw)

    fn = await repo.function(ACCOUNT, "f")
    assert fn is not None and fn["latest"]["config"]["Environment"]["Variables"]["TOKEN"] == (
        "s3cret"
    )
    v1 = await repo.version(ACCOUNT, "f", "1")
    assert v1 is not None and v1["config"]["Environment"]["Variables"] == {"TOKEN": "s3cret"}
    listed = await repo.functions(ACCOUNT)
    assert listed[0].doc["latest"]["config"]["Environment"]["Variables"] == {"TOKEN": "s3cret"}
    assert (await repo.versions(ACCOUNT, "f"))[0]["config"]["Environment"]["Variables"] == {
        "TOKEN": "s3cret"
    }


async def test_a_sealed_value_copied_onto_another_function_does_not_open() -> None:
    store, sealer = MemoryStore(), Sealer.generate()
    repo = FunctionRepository(store, sealer)
    await repo.put_function(ACCOUNT, "f", function_doc("f", {"TOKEN": "s3cret"}))
    raw = await store.get(FUNCTION, ACCOUNT, "f")
    assert raw is not None
    await store.put(FUNCTION, ACCOUNT, "g", raw)
    with pytest.raises(SealError):
        await repo.function(ACCOUNT, "g")


async def test_plain_variables_of_an_older_data_dir_are_sealed_at_start() -> None:
    store, sealer = MemoryStore(), Sealer.generate()
    old = function_doc("f", {"A": "plain-a"})
    # Before, the publish mark was the configuration's text itself.
    old["last_published"] = {"version": "1", "mark": '{"Environment":"plain-a"}abc'}
    await store.put(FUNCTION, ACCOUNT, "f", old)
    await store.put(
        VERSION, ACCOUNT, version_key("f", 1), version_doc("f", {"A": "plain-a"}), parent="f"
    )
    await store.put(FUNCTION, ACCOUNT, "empty", function_doc("empty", {}))
    repo = FunctionRepository(store, sealer)
    assert await repo.seal_environments() == 2
    assert await repo.seal_environments() == 0
    assert "plain-a" not in json.dumps(await store.scan(FUNCTION), default=str)
    assert "plain-a" not in json.dumps(await store.scan(VERSION), default=str)
    v1 = await repo.version(ACCOUNT, "f", "1")
    assert v1 is not None and v1["config"]["Environment"]["Variables"] == {"A": "plain-a"}
