"""The catalog over a real SQLite store and real blobs: resolve, caching, listeners."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lambent.auth.sealing import Sealer
from lambent.blobs.store import BlobStore
from lambent.blocking import BlockingWork
from lambent.clock import ManualClock
from lambent.errors import PreconditionFailed, ResourceConflict, ResourceNotFound
from lambent.functions.aliases import AliasService
from lambent.functions.catalog import StoreCatalog
from lambent.functions.code_url import CodeUrlSigner
from lambent.functions.concurrency import ConcurrencyService
from lambent.functions.lifecycle import Provisioner
from lambent.functions.lookup import Scope
from lambent.functions.model import FunctionVersion
from lambent.functions.runtimes import SUPPORTED_RUNTIMES
from lambent.functions.service import ControlPlane, FunctionService
from lambent.functions.tags import TagService
from lambent.functions.uploads import ZipUploads
from lambent.layers.repository import LayerRepository
from lambent.layers.service import LayerService
from lambent.settings import Settings
from lambent.store.interface import Doc
from lambent.store.sqlite import SqliteStore

ACCOUNT = "123456789012"
SCOPE = Scope(ACCOUNT, "us-east-1")
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/runner"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
HANG_S = 60.0  # only a hang takes this long


class CountingStore(SqliteStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads = 0

    async def get(self, kind: str, account: str, key: str) -> Doc | None:
        self.reads += 1
        return await super().get(kind, account, key)


class Recorder:
    def __init__(self) -> None:
        self.changed: list[tuple[str, str, str]] = []
        self.published: list[tuple[str, str, str]] = []

    def function_changed(self, account_id: str, function_name: str, version: str) -> None:
        self.changed.append((account_id, function_name, version))

    def version_published(self, account_id: str, function_name: str, version: str) -> None:
        self.published.append((account_id, function_name, version))


def make_zip(body: str = "def handler(e, c):\n    return 1\n") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("app.py", body)
    return buf.getvalue()


class World:
    def __init__(self, tmp: Path) -> None:
        self.store = CountingStore(tmp / "state.db")
        self.clock = ManualClock()
        self.settings = Settings(data_dir=tmp)
        self.catalog = StoreCatalog(self.store, self.settings, self.clock)
        blobs = BlobStore(tmp, max_unzipped=self.settings.limits.code_size_unzipped)
        self.blobs = blobs
        self.work = BlockingWork(2)
        uploads = ZipUploads(blobs, self.settings.limits.code_size_zipped, self.work)
        signer = CodeUrlSigner(
            Sealer.generate().derive("code-url"), self.clock, "http://127.0.0.1:1"
        )

        # Closed by a test to hold every extraction, so an update stays InProgress.
        self.extraction_gate = asyncio.Event()
        self.extraction_gate.set()

        async def extract(sha: str) -> object:
            await self.extraction_gate.wait()
            return await self.work.run(blobs.extracted, sha)

        self.provisioner = Provisioner(self.catalog, extract)
        self.catalog.attach_provisioner(self.provisioner)
        layers = LayerService(LayerRepository(self.store), uploads, signer, self.clock)
        cp = ControlPlane(
            self.catalog, uploads, self.provisioner, layers, signer, SUPPORTED_RUNTIMES
        )
        self.functions = FunctionService(cp)
        self.aliases = AliasService(self.catalog)
        self.tags = TagService(self.catalog)
        self.listener = Recorder()
        self.catalog.subscribe(self.listener)

    async def start(self) -> None:
        await self.store.put("iam_role", ACCOUNT, "runner", {"RoleName": "runner", "Arn": ROLE})

    async def close(self) -> None:
        await self.provisioner.close()
        self.work.close()
        await self.store.close()

    async def settle(self, name: str) -> None:
        """Until the function's create or update has settled (its code extracted)."""
        settling = self.provisioner.pending(ACCOUNT, name)
        if settling is not None:
            await asyncio.wait_for(asyncio.shield(settling), HANG_S)

    async def create(self, name: str, **extra: Any) -> Doc:
        params = {
            "FunctionName": name,
            "Runtime": "python3.12",
            "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": make_zip()},
            **extra,
        }
        out = await self.functions.create(SCOPE, params)
        await self.settle(name)
        return out


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = World(tmp_path)
    await w.start()
    yield w
    await w.close()


async def test_create_is_pending_then_active_after_extraction(world: World) -> None:
    out = await world.functions.create(
        SCOPE,
        {
            "FunctionName": "f",
            "Runtime": "python3.12",
            "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": make_zip()},
        },
    )
    assert out["State"] == "Pending"
    assert out["StateReasonCode"] == "Creating"
    await world.settle("f")
    version = (await world.catalog.resolve(ACCOUNT, "f", None)).version
    assert version.state == "Active"
    assert version.last_update_status == "Successful"
    assert world.blobs.extracted(version.code_sha256_hex).is_dir()


async def test_every_name_form_resolves_to_the_same_cached_version(world: World) -> None:
    await world.create("f")
    first = await world.catalog.resolve(ACCOUNT, "f", None)
    reads = world.store.reads
    for name in ("f", f"{ACCOUNT}:function:f", ARN + "f", "f:$LATEST", ARN + "f:$LATEST"):
        assert (await world.catalog.resolve(ACCOUNT, name, None)).version is first.version
    assert world.store.reads == reads  # warm: no database read


async def test_writes_invalidate_and_notify(world: World) -> None:
    await world.create("f")
    before = (await world.catalog.resolve(ACCOUNT, "f", None)).version
    await world.functions.update_configuration(SCOPE, {"FunctionName": "f", "MemorySize": 512})
    await world.settle("f")
    after = (await world.catalog.resolve(ACCOUNT, "f", None)).version
    assert after.memory_mb == 512
    assert after.revision_id != before.revision_id
    assert (ACCOUNT, "f", "$LATEST") in world.listener.changed


async def test_update_while_in_progress_is_a_conflict_until_it_settles(world: World) -> None:
    await world.create("f")
    world.extraction_gate.clear()  # the update stays InProgress until the gate opens
    out = await world.functions.update_code(
        SCOPE, {"FunctionName": "f", "ZipFile": make_zip("x = 1")}
    )
    assert out["LastUpdateStatus"] == "InProgress"
    with pytest.raises(ResourceConflict, match="An update is in progress for resource"):
        await world.functions.update_code(
            SCOPE, {"FunctionName": "f", "ZipFile": make_zip("x = 2")}
        )
    world.extraction_gate.set()
    await world.settle("f")
    again = await world.functions.update_code(
        SCOPE, {"FunctionName": "f", "ZipFile": make_zip("x = 2")}
    )
    assert again["LastUpdateStatus"] == "InProgress"


async def test_alias_with_weights(world: World) -> None:
    await world.create("f", Publish=True)
    await world.functions.update_code(SCOPE, {"FunctionName": "f", "ZipFile": make_zip("y = 1")})
    await world.settle("f")
    await world.functions.publish_version(SCOPE, {"FunctionName": "f"})
    await world.settle("f")
    await world.aliases.create(
        SCOPE,
        {
            "FunctionName": "f",
            "Name": "live",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1}},
        },
    )
    resolved = await world.catalog.resolve(ACCOUNT, "f:live", None)
    assert resolved.version.version == "1"
    assert resolved.alias == "live"
    assert resolved.additional_weights == {"2": 0.1}
    # The weighted version comes with the alias: routing an invoke needs no lookup.
    assert resolved.additional_versions["2"].version == "2"
    assert resolved.additional_versions["2"].code_sha256_hex != resolved.version.code_sha256_hex
    assert resolved.invoked_arn == ARN + "f:live"
    assert (await world.catalog.version(ACCOUNT, "f", "2")).version == "2"


async def test_not_found_messages(world: World) -> None:
    """Invoke's: the qualifier invoked, $LATEST when none; another region's ARN is not
    reachable from the caller's region."""
    await world.create("f")
    with pytest.raises(ResourceNotFound) as exc:
        await world.catalog.resolve(ACCOUNT, "nope", None)
    assert exc.value.message == f"Function not found: {ARN}nope:$LATEST"
    with pytest.raises(ResourceNotFound) as exc:
        await world.catalog.resolve(ACCOUNT, "f", "7")
    assert exc.value.message == f"Function not found: {ARN}f:7"
    with pytest.raises(ResourceNotFound) as exc:
        await world.catalog.resolve(ACCOUNT, "f", "missing-alias")
    assert exc.value.message == f"Function not found: {ARN}f:missing-alias"
    other_region = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f"
    with pytest.raises(ResourceNotFound) as exc:
        await world.catalog.resolve(ACCOUNT, other_region, None)
    assert exc.value.message == f"Function not found: {other_region}:$LATEST"
    with pytest.raises(ResourceNotFound) as exc:
        await world.catalog.resolve(ACCOUNT, other_region, None, region="us-east-1")
    assert exc.value.message == (
        "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
    )


async def test_other_accounts_see_nothing(world: World) -> None:
    await world.create("f")
    with pytest.raises(ResourceNotFound):
        await world.catalog.resolve("999999999999", "f", None)
    with pytest.raises(ResourceNotFound):
        await world.catalog.resolve(ACCOUNT, "999999999999:function:f", None)
    other = Scope("999999999999", "us-east-1")
    assert (await world.functions.list_functions(other, {}))["Functions"] == []


async def test_network_tag(world: World) -> None:
    await world.create("f")
    assert (await world.catalog.resolve(ACCOUNT, "f", None)).version.network == "egress"
    await world.tags.tag(SCOPE, ARN + "f", {"lambent:network": "none"})
    assert (await world.catalog.resolve(ACCOUNT, "f", None)).version.network == "none"
    assert (ACCOUNT, "f", "*") in world.listener.changed


async def test_delete_notifies_all_versions(world: World) -> None:
    await world.create("f", Publish=True)
    await world.functions.delete(SCOPE, "f", None)
    assert world.listener.changed[-1] == (ACCOUNT, "f", "*")
    with pytest.raises(ResourceNotFound):
        await world.catalog.resolve(ACCOUNT, "f", None)


async def test_a_published_version_of_an_active_function_is_active_at_once(world: World) -> None:
    """Publish-then-invoke must work: nothing is left to prepare for a plain version."""
    await world.create("f")
    await world.settle("f")
    out = await world.functions.publish_version(SCOPE, {"FunctionName": "f"})
    assert out["State"] == "Active"
    assert (await world.catalog.version(ACCOUNT, "f", out["Version"])).state == "Active"


async def test_snapstart_version_waits_for_the_data_plane(world: World) -> None:
    await world.create("f", SnapStart={"ApplyOn": "PublishedVersions"})
    out = await world.functions.publish_version(SCOPE, {"FunctionName": "f"})
    await world.settle("f")
    assert out["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    assert world.listener.published == [(ACCOUNT, "f", "1")]
    version = await world.catalog.version(ACCOUNT, "f", "1")
    assert version.state == "Pending"
    assert version.snapstart
    with pytest.raises(PreconditionFailed):
        await world.functions.publish_version(SCOPE, {"FunctionName": "f", "RevisionId": "stale"})
    await world.catalog.set_version_state(ACCOUNT, "f", "1", "Active")
    assert (await world.catalog.version(ACCOUNT, "f", "1")).state == "Active"


async def test_broken_zip_fails_the_function(world: World) -> None:
    data = bytearray(make_zip("print('x')\n" * 50))
    data[40] ^= 0xFF  # corrupt the compressed bytes; the central directory stays readable
    await world.functions.create(
        SCOPE,
        {
            "FunctionName": "bad",
            "Runtime": "python3.12",
            "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": bytes(data)},
        },
    )
    await world.settle("bad")
    cfg = await world.functions.get_configuration(SCOPE, "bad", None)
    assert cfg["State"] == "Failed"
    assert cfg["StateReasonCode"] == "InvalidZipFileException"


async def test_data_plane_reads(world: World) -> None:
    await world.create("f", Publish=True)
    assert world.catalog.reserved_concurrency(ACCOUNT, "f") is None
    assert await world.catalog.event_invoke_config(ACCOUNT, "f", None) is None
    assert await world.catalog.provisioned_concurrency(ACCOUNT, "f", "1") is None
    assert await world.catalog.provisioned_configs() == []


async def test_reserved_concurrency_is_an_index_kept_by_writes(world: World) -> None:
    """Admission asks on every invoke without awaiting: the catalog keeps reserved
    concurrency in memory, refreshed by each write and loaded again at start."""
    concurrency = ConcurrencyService(world.catalog, LayerRepository(world.store))
    await world.create("f")
    await world.create("g")
    await concurrency.put_reserved(SCOPE, "f", 7)
    await concurrency.put_reserved(SCOPE, "g", 3)
    assert world.catalog.reserved_concurrency(ACCOUNT, "f") == 7
    assert world.catalog.reserved_total(ACCOUNT) == 10
    assert world.catalog.reserved_total("999999999999") == 0
    await concurrency.delete_reserved(SCOPE, "g")
    assert world.catalog.reserved_concurrency(ACCOUNT, "g") is None
    assert world.catalog.reserved_total(ACCOUNT) == 7
    # A new catalog over the same store (a restart) loads the index at start.
    restarted = StoreCatalog(world.store, world.settings, world.clock)
    assert restarted.reserved_total(ACCOUNT) == 0
    await restarted.start()
    assert restarted.reserved_concurrency(ACCOUNT, "f") == 7
    await world.functions.delete(SCOPE, "f", None)
    assert world.catalog.reserved_total(ACCOUNT) == 0


async def test_listeners_find_the_changed_versions_loaded(world: World) -> None:
    """A listener (the environment manager) asks the cache without awaiting; `changed()`
    has loaded $LATEST and the named version before it calls them."""
    seen: list[tuple[object, object]] = []

    class Asking:
        def function_changed(self, account: str, name: str, version: str) -> None:
            seen.append(
                (
                    world.catalog.cached_version(account, name, "$LATEST"),
                    world.catalog.cached_version(account, name, version),
                )
            )

        def version_published(self, account: str, name: str, version: str) -> None:
            return None

    await world.create("f", Publish=True)
    world.catalog.subscribe(Asking())
    await world.functions.update_configuration(SCOPE, {"FunctionName": "f", "Timeout": 9})
    latest, named = seen[-1]
    assert isinstance(latest, FunctionVersion) and latest.timeout_s == 9
    assert named is latest
    await world.functions.delete(SCOPE, "f", "1")
    assert seen[-1][1] is None  # version 1 is gone: nothing to find
