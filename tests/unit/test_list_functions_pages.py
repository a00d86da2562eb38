"""ListFunctions pages over a real SQLite store: each function once, in order, the walk
ends (issue 8 §1.1's names), and a page reads only what it shows (issue 8 §1.15)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lambent.auth.sealing import Sealer
from lambent.blobs.store import BlobStore
from lambent.blocking import BlockingWork
from lambent.clock import ManualClock
from lambent.functions.catalog import StoreCatalog
from lambent.functions.code_url import CodeUrlSigner
from lambent.functions.lifecycle import Provisioner
from lambent.functions.lookup import Scope
from lambent.functions.runtimes import SUPPORTED_RUNTIMES
from lambent.functions.service import ControlPlane, FunctionService
from lambent.functions.uploads import ZipUploads
from lambent.layers.repository import LayerRepository
from lambent.layers.service import LayerService
from lambent.settings import Settings
from lambent.store.interface import Row
from lambent.store.sqlite import SqliteStore
from tests.fixtures.functions import python_zip

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/runner"
HERE = Scope(ACCOUNT, "us-east-1")
ELSEWHERE = Scope(ACCOUNT, "eu-west-1")


class CountingStore(SqliteStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.rows_listed = 0

    async def list(self, *args: Any, **kwargs: Any) -> list[Row]:
        rows = await super().list(*args, **kwargs)
        self.rows_listed += len(rows)
        return rows


HANG_S = 60.0  # only a hang takes this long


class World:
    def __init__(self, tmp: Path) -> None:
        self.store = CountingStore(tmp / "state.db")
        settings = Settings(data_dir=tmp)
        clock = ManualClock()
        self.catalog = StoreCatalog(self.store, settings, clock)
        blobs = BlobStore(tmp, max_unzipped=settings.limits.code_size_unzipped)
        self.work = BlockingWork(2)
        uploads = ZipUploads(blobs, settings.limits.code_size_zipped, self.work)
        signer = CodeUrlSigner(Sealer.generate().derive("code-url"), clock, "http://127.0.0.1:1")

        async def extract(sha: str) -> object:
            return await self.work.run(blobs.extracted, sha)

        self.provisioner = Provisioner(self.catalog, extract)
        layers = LayerService(LayerRepository(self.store), uploads, signer, clock)
        cp = ControlPlane(
            self.catalog, uploads, self.provisioner, layers, signer, SUPPORTED_RUNTIMES
        )
        self.functions = FunctionService(cp)

    async def create(self, name: str, scope: Scope = HERE, publish: int = 0) -> None:
        await self.functions.create(
            scope,
            {
                "FunctionName": name,
                "Runtime": "python3.12",
                "Role": ROLE,
                "Handler": "app.handler",
                "Code": {"ZipFile": python_zip(f"def handler(e, c):\n    return {name!r}\n")},
            },
        )
        await self.provisioner.wait(ACCOUNT, name)
        for n in range(publish):
            await self.functions.update_configuration(
                scope, {"FunctionName": name, "Timeout": 10 + n}
            )
            settling = self.provisioner.pending(ACCOUNT, name)  # the update's window
            if settling is not None:
                await asyncio.wait_for(asyncio.shield(settling), HANG_S)
            await self.functions.publish_version(scope, {"FunctionName": name})

    async def walk(self, scope: Scope, size: int, every: bool = False) -> list[str]:
        seen: list[str] = []
        marker = None
        for _ in range(1000):  # a walk that never ends fails here
            params: dict[str, Any] = {"MaxItems": size}
            if every:
                params["FunctionVersion"] = "ALL"
            if marker:
                params["Marker"] = marker
            page = await self.functions.list_functions(scope, params)
            assert len(page["Functions"]) <= size
            seen.extend(
                f"{c['FunctionName']}:{c['Version']}" if every else c["FunctionName"]
                for c in page["Functions"]
            )
            marker = page.get("NextMarker")
            if not marker:
                return seen
        raise AssertionError(f"the walk did not end: {seen[:20]}")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = World(tmp_path)
    await w.store.put("iam_role", ACCOUNT, "runner", {"RoleName": "runner", "Arn": ROLE})
    yield w
    await w.provisioner.close()
    w.work.close()
    await w.store.close()


async def test_every_function_once_in_order_and_the_walk_ends(world: World) -> None:
    await world.create("cp-1", publish=2)
    for name in ("cp-1-p0", "cp-1-p1", "cp-1-p2", "cp_1", "cp-10"):
        await world.create(name)
    await world.create("elsewhere", scope=ELSEWHERE)
    names = sorted(["cp-1", "cp-1-p0", "cp-1-p1", "cp-1-p2", "cp_1", "cp-10"])
    for size in (1, 2, 3, 50):
        assert await world.walk(HERE, size) == names
        everything = await world.walk(HERE, size, every=True)
        versions = {"cp-1": ["$LATEST", "1", "2"]}
        expected = [f"{n}:{v}" for n in names for v in versions.get(n, ["$LATEST"])]
        assert everything == expected
    assert await world.walk(ELSEWHERE, 2) == ["elsewhere"]


async def test_a_page_reads_only_what_it_shows(world: World) -> None:
    for n in range(120):
        await world.create(f"f-{n:03d}")
    world.store.rows_listed = 0
    page = await world.functions.list_functions(HERE, {"MaxItems": 10})
    assert len(page["Functions"]) == 10 and page["NextMarker"]
    assert world.store.rows_listed <= 11
    world.store.rows_listed = 0
    later = await world.functions.list_functions(
        HERE, {"MaxItems": 10, "Marker": page["NextMarker"]}
    )
    assert [c["FunctionName"] for c in later["Functions"]] == [f"f-{n:03d}" for n in range(10, 20)]
    assert world.store.rows_listed <= 11
