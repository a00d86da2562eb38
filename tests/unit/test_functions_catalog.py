"""The catalog over a real SQLite store and real blobs: resolve, caching, listeners."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambent.blobs.store import BlobStore
from lambent.clock import ManualClock
from lambent.errors import PreconditionFailed, ResourceNotFound
from lambent.functions.aliases import AliasService
from lambent.functions.catalog import StoreCatalog
from lambent.functions.code_url import CodeUrlSigner
from lambent.functions.lifecycle import Provisioner
from lambent.functions.lookup import Scope
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


class CountingStore(SqliteStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads = 0

    def get(self, kind: str, account: str, key: str) -> Doc | None:
        self.reads += 1
        return super().get(kind, account, key)


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
        uploads = ZipUploads(blobs, self.settings.limits.code_size_zipped)
        signer = CodeUrlSigner(self.catalog.repo, self.clock, "http://127.0.0.1:1")
        self.provisioner = Provisioner(self.catalog, blobs.extracted)
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
        self.store.put("iam_role", ACCOUNT, "runner", {"RoleName": "runner", "Arn": ROLE})

    def settle(self, name: str) -> None:
        future = self.catalog.pending(ACCOUNT, name)
        if future is not None:
            future.result(timeout=10)

    def create(self, name: str, **extra: Any) -> Doc:
        params = {
            "FunctionName": name,
            "Runtime": "python3.12",
            "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": make_zip()},
            **extra,
        }
        out = self.functions.create(SCOPE, params)
        self.settle(name)
        return out


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.provisioner.shutdown()
    w.store.close()


def test_create_is_pending_then_active_after_extraction(world: World) -> None:
    out = world.functions.create(
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
    world.settle("f")
    version = world.catalog.resolve(ACCOUNT, "f", None).version
    assert version.state == "Active"
    assert version.last_update_status == "Successful"
    assert world.blobs.extracted(version.code_sha256_hex).is_dir()


def test_every_name_form_resolves_to_the_same_cached_version(world: World) -> None:
    world.create("f")
    first = world.catalog.resolve(ACCOUNT, "f", None)
    reads = world.store.reads
    for name in ("f", f"{ACCOUNT}:function:f", ARN + "f", "f:$LATEST", ARN + "f:$LATEST"):
        assert world.catalog.resolve(ACCOUNT, name, None).version is first.version
    assert world.store.reads == reads  # warm: no database read


def test_writes_invalidate_and_notify(world: World) -> None:
    world.create("f")
    before = world.catalog.resolve(ACCOUNT, "f", None).version
    world.functions.update_configuration(SCOPE, {"FunctionName": "f", "MemorySize": 512})
    world.settle("f")
    after = world.catalog.resolve(ACCOUNT, "f", None).version
    assert after.memory_mb == 512
    assert after.revision_id != before.revision_id
    assert (ACCOUNT, "f", "$LATEST") in world.listener.changed


def test_update_while_in_progress_waits_for_settle(world: World) -> None:
    world.create("f")
    world.functions.update_code(SCOPE, {"FunctionName": "f", "ZipFile": make_zip("x = 1")})
    # No settle in between: the second write waits for the first to finish.
    out = world.functions.update_code(SCOPE, {"FunctionName": "f", "ZipFile": make_zip("x = 2")})
    assert out["LastUpdateStatus"] == "InProgress"


def test_alias_with_weights(world: World) -> None:
    world.create("f", Publish=True)
    world.functions.update_code(SCOPE, {"FunctionName": "f", "ZipFile": make_zip("y = 1")})
    world.settle("f")
    world.functions.publish_version(SCOPE, {"FunctionName": "f"})
    world.settle("f")
    world.aliases.create(
        SCOPE,
        {
            "FunctionName": "f",
            "Name": "live",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1}},
        },
    )
    resolved = world.catalog.resolve(ACCOUNT, "f:live", None)
    assert resolved.version.version == "1"
    assert resolved.alias == "live"
    assert resolved.additional_weights == {"2": 0.1}
    assert resolved.invoked_arn == ARN + "f:live"
    assert world.catalog.version(ACCOUNT, "f", "2").version == "2"


def test_not_found_messages(world: World) -> None:
    world.create("f")
    with pytest.raises(ResourceNotFound) as exc:
        world.catalog.resolve(ACCOUNT, "nope", None)
    assert exc.value.message == f"Function not found: {ARN}nope"
    with pytest.raises(ResourceNotFound) as exc:
        world.catalog.resolve(ACCOUNT, "f", "7")
    assert exc.value.message == f"Function not found: {ARN}f:7"
    with pytest.raises(ResourceNotFound) as exc:
        world.catalog.resolve(ACCOUNT, "f", "missing-alias")
    assert exc.value.message == f"Function not found: {ARN}f:missing-alias"
    other_region = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f"
    with pytest.raises(ResourceNotFound) as exc:
        world.catalog.resolve(ACCOUNT, other_region, None)
    assert exc.value.message == f"Function not found: {other_region}"


def test_other_accounts_see_nothing(world: World) -> None:
    world.create("f")
    with pytest.raises(ResourceNotFound):
        world.catalog.resolve("999999999999", "f", None)
    with pytest.raises(ResourceNotFound):
        world.catalog.resolve(ACCOUNT, "999999999999:function:f", None)
    other = Scope("999999999999", "us-east-1")
    assert world.functions.list_functions(other, {})["Functions"] == []


def test_network_tag(world: World) -> None:
    world.create("f")
    assert world.catalog.resolve(ACCOUNT, "f", None).version.network == "egress"
    world.tags.tag(SCOPE, ARN + "f", {"lambent:network": "none"})
    assert world.catalog.resolve(ACCOUNT, "f", None).version.network == "none"
    assert (ACCOUNT, "f", "*") in world.listener.changed


def test_delete_notifies_all_versions(world: World) -> None:
    world.create("f", Publish=True)
    world.functions.delete(SCOPE, "f", None)
    assert world.listener.changed[-1] == (ACCOUNT, "f", "*")
    with pytest.raises(ResourceNotFound):
        world.catalog.resolve(ACCOUNT, "f", None)


def test_a_published_version_of_an_active_function_is_active_at_once(world: World) -> None:
    """Publish-then-invoke must work: nothing is left to prepare for a plain version."""
    world.create("f")
    world.settle("f")
    out = world.functions.publish_version(SCOPE, {"FunctionName": "f"})
    assert out["State"] == "Active"
    assert world.catalog.version(ACCOUNT, "f", out["Version"]).state == "Active"


def test_snapstart_version_waits_for_the_data_plane(world: World) -> None:
    world.create("f", SnapStart={"ApplyOn": "PublishedVersions"})
    out = world.functions.publish_version(SCOPE, {"FunctionName": "f"})
    world.settle("f")
    assert out["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    assert world.listener.published == [(ACCOUNT, "f", "1")]
    version = world.catalog.version(ACCOUNT, "f", "1")
    assert version.state == "Pending"
    assert version.snapstart
    with pytest.raises(PreconditionFailed):
        world.functions.publish_version(SCOPE, {"FunctionName": "f", "RevisionId": "stale"})
    world.catalog.set_version_state(ACCOUNT, "f", "1", "Active")
    assert world.catalog.version(ACCOUNT, "f", "1").state == "Active"


def test_broken_zip_fails_the_function(world: World) -> None:
    data = bytearray(make_zip("print('x')\n" * 50))
    data[40] ^= 0xFF  # corrupt the compressed bytes; the central directory stays readable
    world.functions.create(
        SCOPE,
        {
            "FunctionName": "bad",
            "Runtime": "python3.12",
            "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": bytes(data)},
        },
    )
    world.settle("bad")
    cfg = world.functions.get_configuration(SCOPE, "bad", None)
    assert cfg["State"] == "Failed"
    assert cfg["StateReasonCode"] == "InvalidZipFileException"


def test_data_plane_reads(world: World) -> None:
    world.create("f", Publish=True)
    assert world.catalog.reserved_concurrency(ACCOUNT, "f") is None
    assert world.catalog.event_invoke_config(ACCOUNT, "f", None) is None
    assert world.catalog.provisioned_concurrency(ACCOUNT, "f", "1") is None
    assert world.catalog.provisioned_configs() == []
