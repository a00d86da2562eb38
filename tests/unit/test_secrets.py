"""The secret store's rules that need a clock: a recovery window that ends purges the
secret (so its name is free again), LastAccessedDate by the day; and the pure parts:
staging labels and SecretId forms."""

from __future__ import annotations

import pytest

from lambent.auth.sealing import Sealer, SealError
from lambent.clock import ManualClock
from lambent.secrets import names, versions
from lambent.secrets.errors import SecretNotFound
from lambent.secrets.service import DAY, KIND, Secrets
from lambent.store.memory import MemoryStore

ACCOUNT = "123456789012"


def make() -> tuple[Secrets, MemoryStore, ManualClock]:
    store, clock = MemoryStore(), ManualClock()
    return Secrets(store, Sealer.generate(), clock), store, clock


async def test_an_ended_recovery_window_purges_the_secret() -> None:
    secrets, store, clock = make()
    doc, _ = await secrets.create(ACCOUNT, "us-east-1", "s", token=None, string="v")
    await secrets.delete(ACCOUNT, "s", 7, False)
    clock.advance(7 * DAY - 1)
    assert (await secrets.describe(ACCOUNT, "s"))["arn"] == doc["arn"]
    clock.advance(1)
    with pytest.raises(SecretNotFound):
        await secrets.describe(ACCOUNT, doc["arn"])
    assert await store.get(KIND, ACCOUNT, "s") is None
    again, _ = await secrets.create(ACCOUNT, "us-east-1", "s", token=None, string="w")
    assert again["arn"] != doc["arn"]


async def test_last_accessed_is_a_day_written_once_a_day() -> None:
    secrets, _, clock = make()
    await secrets.create(ACCOUNT, "us-east-1", "s", token=None, string="v")
    await secrets.get_value(ACCOUNT, "s", None, None)
    day = (await secrets.describe(ACCOUNT, "s"))["accessed"]
    assert day == clock.time() // DAY * DAY
    clock.advance(DAY)
    await secrets.get_value(ACCOUNT, "s", None, None)
    assert (await secrets.describe(ACCOUNT, "s"))["accessed"] == day + DAY


async def test_a_sealed_value_does_not_open_under_another_secret() -> None:
    secrets, store, _ = make()
    await secrets.create(ACCOUNT, "us-east-1", "a", token="t1", string="va")
    await secrets.create(ACCOUNT, "us-east-1", "b", token="t1", string="vb")
    a = await store.get(KIND, ACCOUNT, "a")
    b = await store.get(KIND, ACCOUNT, "b")
    assert a is not None and b is not None
    b["versions"]["t1"]["value"] = a["versions"]["t1"]["value"]
    await store.put(KIND, ACCOUNT, "b", b)
    with pytest.raises(SealError):
        await secrets.get_value(ACCOUNT, "b", None, None)


def test_staging_moves_labels_and_drops_unlabelled_versions() -> None:
    vs: versions.Versions = {}
    versions.stage(vs, "v1", {"value": "1"}, [versions.CURRENT])
    versions.stage(vs, "v2", {"value": "2"}, [versions.CURRENT])
    versions.stage(vs, "v3", {"value": "3"}, ["AWSPENDING"])
    assert versions.to_stages(vs) == {
        "v1": ["AWSPREVIOUS"],
        "v2": ["AWSCURRENT"],
        "v3": ["AWSPENDING"],
    }
    versions.stage(vs, "v4", {"value": "4"}, [versions.CURRENT])
    assert versions.to_stages(vs) == {
        "v2": ["AWSPREVIOUS"],
        "v3": ["AWSPENDING"],
        "v4": ["AWSCURRENT"],
    }


def test_secret_ids() -> None:
    arn = names.new_arn("us-east-1", ACCOUNT, "db-pass")
    assert arn.startswith(f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db-pass-")
    assert len(arn) == len(f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db-pass-") + 6
    assert names.candidates(arn) == (ACCOUNT, ["db-pass", arn.split(":")[-1]])
    assert names.candidates("plain") == (None, ["plain"])
    partial = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:x"
    assert names.candidates(partial) == (ACCOUNT, ["x"])
