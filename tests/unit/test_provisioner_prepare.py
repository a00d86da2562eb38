"""A function turns Active (or its update Successful) once the data plane has prepared it:
real SQLite and blobs, the data plane's `prepare` replaced by futures the test completes."""

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
from lambent.functions.model import FunctionVersion
from lambent.functions.runtimes import SUPPORTED_RUNTIMES
from lambent.functions.service import ControlPlane, FunctionService
from lambent.functions.uploads import ZipUploads
from lambent.layers.repository import LayerRepository
from lambent.layers.service import LayerService
from lambent.settings import Settings
from lambent.store.sqlite import SqliteStore
from tests.fixtures.functions import python_zip

ACCOUNT = "123456789012"
SCOPE = Scope(ACCOUNT, "us-east-1")
ROLE = f"arn:aws:iam::{ACCOUNT}:role/runner"
BOUND = 10.0  # seconds: only a hang reaches it


class DataPlane:
    """Records each `prepare`; each one ends when the test resolves its future."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs
        self.versions: list[FunctionVersion] = []
        self.futures: list[asyncio.Future[None]] = []
        self.code_ready: list[bool] = []
        self.called = asyncio.Queue[None]()
        self.at_once = False

    async def prepare(self, version: FunctionVersion) -> None:
        self.code_ready.append(self.blobs.extracted(version.code_sha256_hex).is_dir())
        self.versions.append(version)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.futures.append(future)
        self.called.put_nowait(None)
        if not self.at_once:
            await future

    async def wait_called(self) -> None:
        await asyncio.wait_for(self.called.get(), BOUND)


class World:
    def __init__(self, tmp: Path) -> None:
        self.store = SqliteStore(tmp / "state.db")
        settings = Settings(data_dir=tmp)
        clock = ManualClock()
        self.catalog = StoreCatalog(self.store, settings, clock)
        self.blobs = BlobStore(tmp, max_unzipped=settings.limits.code_size_unzipped)
        self.plane = DataPlane(self.blobs)
        self.work = BlockingWork(2)
        uploads = ZipUploads(self.blobs, settings.limits.code_size_zipped, self.work)
        signer = CodeUrlSigner(Sealer.generate().derive("code-url"), clock, "http://127.0.0.1:1")
        self.broken = False

        async def extract(sha: str) -> object:
            if self.broken:
                raise ValueError("truncated zip")
            return await self.work.run(self.blobs.extracted, sha)

        self.provisioner = Provisioner(self.catalog, extract, prepare=self.plane.prepare)
        self.catalog.attach_provisioner(self.provisioner)
        layers = LayerService(LayerRepository(self.store), uploads, signer, clock)
        cp = ControlPlane(
            self.catalog, uploads, self.provisioner, layers, signer, SUPPORTED_RUNTIMES
        )
        self.functions = FunctionService(cp)

    async def create(self, name: str) -> Any:
        return await self.functions.create(
            SCOPE,
            {
                "FunctionName": name,
                "Runtime": "python3.12",
                "Role": ROLE,
                "Handler": "app.handler",
                "Code": {"ZipFile": python_zip("def handler(e, c):\n    return 1\n")},
            },
        )

    async def state(self, name: str) -> tuple[str, str | None]:
        fn = await self.catalog.repo.function(ACCOUNT, name)
        assert fn is not None
        cfg = fn["latest"]["config"]
        return str(cfg["State"]), cfg.get("LastUpdateStatus")

    async def settled(self, name: str) -> None:
        future = self.provisioner.pending(ACCOUNT, name)
        if future is not None:
            await asyncio.wait_for(asyncio.shield(future), BOUND)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = World(tmp_path)
    await w.store.put("iam_role", ACCOUNT, "runner", {"RoleName": "runner", "Arn": ROLE})
    yield w
    for future in w.plane.futures:
        if not future.done():
            future.set_result(None)
    await w.provisioner.close()
    w.work.close()
    await w.store.close()


async def test_pending_until_the_data_plane_has_prepared_the_function(world: World) -> None:
    assert (await world.create("f"))["State"] == "Pending"
    await world.plane.wait_called()
    assert [v.function_name for v in world.plane.versions] == ["f"]
    assert world.plane.code_ready == [True]  # prepared after the code was extracted
    assert (await world.state("f"))[0] == "Pending"  # the template is not up yet
    world.plane.futures[0].set_result(None)
    await world.settled("f")
    assert await world.state("f") == ("Active", "Successful")


async def test_nothing_to_wait_for_settles_at_once(world: World) -> None:
    world.plane.at_once = True
    await world.create("f")
    await world.settled("f")
    assert (await world.state("f"))[0] == "Active"


async def test_an_update_during_preparation_goes_through_and_is_not_settled_by_the_old_one(
    world: World,
) -> None:
    await world.create("f")
    await world.plane.wait_called()
    # A script that does not wait: the update settles the create without its template.
    out = await world.functions.update_configuration(SCOPE, {"FunctionName": "f", "Timeout": 9})
    assert out["LastUpdateStatus"] == "InProgress"
    await world.plane.wait_called()  # the update's own preparation
    world.plane.futures[0].set_result(None)  # the create's preparation ends late
    await asyncio.sleep(0)
    assert await world.state("f") == ("Active", "InProgress")
    world.plane.futures[1].set_result(None)
    await world.settled("f")
    assert await world.state("f") == ("Active", "Successful")


async def test_code_that_cannot_be_extracted_fails_without_preparing(world: World) -> None:
    world.broken = True
    await world.create("f")
    await world.settled("f")
    assert (await world.state("f"))[0] == "Failed"
    assert world.plane.versions == []
