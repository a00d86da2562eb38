"""The function URL control plane over a real SQLite store and the real function service."""

from __future__ import annotations

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
from lambent.errors import (
    InvalidParameterValue,
    ResourceConflict,
    ResourceNotFound,
    ValidationError,
)
from lambent.function_urls.model import iso_time
from lambent.function_urls.service import FunctionUrlService, UrlPurger
from lambent.functions.aliases import AliasService
from lambent.functions.catalog import StoreCatalog
from lambent.functions.code_url import CodeUrlSigner
from lambent.functions.lifecycle import Provisioner
from lambent.functions.lookup import Scope
from lambent.functions.policy import PolicyService
from lambent.functions.runtimes import SUPPORTED_RUNTIMES
from lambent.functions.service import ControlPlane, FunctionService
from lambent.functions.uploads import ZipUploads
from lambent.layers.repository import LayerRepository
from lambent.layers.service import LayerService
from lambent.settings import Settings
from lambent.store.sqlite import SqliteStore

ACCOUNT = "123456789012"
SCOPE = Scope(ACCOUNT, "us-east-1")
ROLE = f"arn:aws:iam::{ACCOUNT}:role/runner"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
ENDPOINT = "http://127.0.0.1:9999"


def make_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


class World:
    def __init__(self, tmp: Path) -> None:
        self.store = SqliteStore(tmp / "state.db")
        self.clock = ManualClock()
        settings = Settings(data_dir=tmp)
        self.catalog = StoreCatalog(self.store, settings, self.clock)
        blobs = BlobStore(tmp, max_unzipped=settings.limits.code_size_unzipped)
        self.work = BlockingWork(2)
        uploads = ZipUploads(blobs, settings.limits.code_size_zipped, self.work)
        signer = CodeUrlSigner(Sealer.generate().derive("code-url"), self.clock, ENDPOINT)

        async def extract(sha: str) -> object:
            return await self.work.run(blobs.extracted, sha)

        self.provisioner = Provisioner(self.catalog, extract)
        self.catalog.attach_provisioner(self.provisioner)
        layers = LayerService(LayerRepository(self.store), uploads, signer, self.clock)
        cp = ControlPlane(
            self.catalog, uploads, self.provisioner, layers, signer, SUPPORTED_RUNTIMES
        )
        self.functions = FunctionService(cp)
        self.aliases = AliasService(self.catalog)
        self.policies = PolicyService(self.catalog)
        self.urls = FunctionUrlService(self.catalog, self.clock, ENDPOINT)
        self.catalog.subscribe(UrlPurger(self.urls))

    async def start(self) -> None:
        await self.store.put("iam_role", ACCOUNT, "runner", {"RoleName": "runner", "Arn": ROLE})

    async def close(self) -> None:
        await self.provisioner.close()
        self.work.close()
        await self.store.close()

    async def create_function(self, name: str) -> None:
        await self.functions.create(
            SCOPE,
            {
                "FunctionName": name,
                "Runtime": "python3.11",
                "Role": ROLE,
                "Handler": "app.handler",
                "Code": {"ZipFile": make_zip()},
            },
        )
        self.clock.advance(1.0)

    async def create_url(self, name: str, **params: Any) -> dict[str, Any]:
        return await self.urls.create(SCOPE, {"FunctionName": name, "AuthType": "NONE", **params})


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = World(tmp_path)
    await w.start()
    yield w
    await w.close()


async def test_create_then_get_update_delete(world: World) -> None:
    await world.create_function("f")
    created = await world.create_url("f", Cors={"AllowOrigins": ["*"]})
    assert created["FunctionArn"] == ARN + "f"
    assert created["FunctionUrl"].startswith(f"{ENDPOINT}/_lambent/url/")
    assert created["CreationTime"] == iso_time(world.clock.time())
    assert "LastModifiedTime" not in created and "InvokeMode" not in created
    got = await world.urls.get(SCOPE, {"FunctionName": ARN + "f"})
    assert got["FunctionUrl"] == created["FunctionUrl"]
    assert got["LastModifiedTime"] == got["CreationTime"]

    world.clock.advance(5)
    updated = await world.urls.update(
        SCOPE, {"FunctionName": "f", "AuthType": "AWS_IAM", "Cors": {"AllowCredentials": False}}
    )
    assert updated["AuthType"] == "AWS_IAM"
    assert updated["Cors"] == {"AllowCredentials": False}
    assert updated["FunctionUrl"] == created["FunctionUrl"]
    assert updated["LastModifiedTime"] == iso_time(world.clock.time())
    assert updated["CreationTime"] == created["CreationTime"]

    kept = await world.urls.update(SCOPE, {"FunctionName": "f", "InvokeMode": "RESPONSE_STREAM"})
    assert kept["AuthType"] == "AWS_IAM" and kept["InvokeMode"] == "RESPONSE_STREAM"
    await world.urls.delete(SCOPE, {"FunctionName": "f"})
    with pytest.raises(ResourceNotFound, match=r"The resource you requested does not exist\."):
        await world.urls.get(SCOPE, {"FunctionName": "f"})
    with pytest.raises(ResourceNotFound):
        await world.urls.delete(SCOPE, {"FunctionName": "f"})


async def test_one_url_per_qualifier(world: World) -> None:
    await world.create_function("f")
    await world.create_url("f")
    with pytest.raises(ResourceConflict) as err:
        await world.create_url("f:$LATEST")
    assert err.value.message == (
        f"Failed to create function url config for [functionArn = {ARN}f]. Error message:  "
        "FunctionUrlConfig exists for this Lambda function"
    )


async def test_alias_urls_and_their_arns(world: World) -> None:
    await world.create_function("f")
    await world.aliases.create(
        SCOPE, {"FunctionName": "f", "Name": "live", "FunctionVersion": "$LATEST"}
    )
    latest = await world.create_url("f")
    live = await world.create_url("f", Qualifier="live")
    assert live["FunctionArn"] == ARN + "f:live"
    assert live["FunctionUrl"] != latest["FunctionUrl"]
    assert (await world.urls.get(SCOPE, {"FunctionName": "f:live"}))[
        "FunctionArn"
    ] == ARN + "f:live"
    with pytest.raises(ResourceNotFound, match="Function does not exist"):
        await world.create_url("f", Qualifier="missing")


async def test_versions_are_not_url_qualifiers(world: World) -> None:
    await world.create_function("f")
    with pytest.raises(ValidationError, match="Value '1' at 'qualifier'"):
        await world.create_url("f:1")
    with pytest.raises(InvalidParameterValue):
        await world.create_url("f:a", Qualifier="b")


async def test_unknown_function(world: World) -> None:
    """AWS: Get and Delete say the resource does not exist; Create, Update (and List)
    that the function does not."""
    for op in (world.urls.get, world.urls.delete):
        with pytest.raises(ResourceNotFound, match=r"^The resource you requested does not exist"):
            await op(SCOPE, {"FunctionName": "nope"})
    for op in (world.urls.update, world.urls.list):
        with pytest.raises(ResourceNotFound, match=r"^Function does not exist$"):
            await op(SCOPE, {"FunctionName": "nope"})
    with pytest.raises(ResourceNotFound, match="Function does not exist"):
        await world.create_url("nope")


async def test_list_pages_by_qualifier(world: World) -> None:
    await world.create_function("f")
    assert await world.urls.list(SCOPE, {"FunctionName": "f"}) == {"FunctionUrlConfigs": []}
    for alias in ("a1", "a2"):
        await world.aliases.create(
            SCOPE, {"FunctionName": "f", "Name": alias, "FunctionVersion": "$LATEST"}
        )
        await world.create_url("f", Qualifier=alias)
    await world.create_url("f")
    everything = (await world.urls.list(SCOPE, {"FunctionName": "f"}))["FunctionUrlConfigs"]
    assert [c["FunctionArn"] for c in everything] == [ARN + "f", ARN + "f:a1", ARN + "f:a2"]
    first = await world.urls.list(SCOPE, {"FunctionName": "f", "MaxItems": 2})
    assert len(first["FunctionUrlConfigs"]) == 2
    rest = await world.urls.list(
        SCOPE, {"FunctionName": "f", "MaxItems": 2, "Marker": first["NextMarker"]}
    )
    assert [c["FunctionArn"] for c in rest["FunctionUrlConfigs"]] == [ARN + "f:a2"]
    assert "NextMarker" not in rest


async def test_deleting_the_function_deletes_its_urls(world: World) -> None:
    await world.create_function("f")
    url = (await world.create_url("f"))["FunctionUrl"]
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    assert await world.urls.find(url_id) is not None
    await world.functions.delete(SCOPE, "f", None)
    assert await world.urls.find(url_id) is None
    assert await world.urls.repo.by_id(url_id) is None  # purged, not just hidden
    await world.create_function("f")
    with pytest.raises(ResourceNotFound):
        await world.urls.get(SCOPE, {"FunctionName": "f"})
    assert (await world.create_url("f"))["FunctionUrl"] != url


async def test_stale_url_of_a_recreated_function_is_never_served(world: World) -> None:
    """Even if the purge notification was missed (crash), the URL dies with its function."""
    await world.create_function("f")
    url_id = (await world.create_url("f"))["FunctionUrl"].rstrip("/").rsplit("/", 1)[1]
    await world.catalog.repo.delete_function(ACCOUNT, "f")  # behind the catalog's back
    world.catalog.invalidate(ACCOUNT, "f")
    await world.create_function("f")
    assert await world.urls.find(url_id) is None
    assert await world.urls.list(SCOPE, {"FunctionName": "f"}) == {"FunctionUrlConfigs": []}
    await world.create_url("f")  # the stale one does not block a new URL


async def test_url_survives_its_alias_but_loses_the_alias_policy(world: World) -> None:
    await world.create_function("f")
    await world.aliases.create(
        SCOPE, {"FunctionName": "f", "Name": "live", "FunctionVersion": "$LATEST"}
    )
    url_id = (
        (await world.create_url("f", Qualifier="live"))["FunctionUrl"].rstrip("/").rsplit("/", 1)[1]
    )
    await world.policies.add(
        SCOPE,
        {
            "FunctionName": "f",
            "Qualifier": "live",
            "StatementId": "url",
            "Action": "lambda:InvokeFunctionUrl",
            "Principal": "*",
            "FunctionUrlAuthType": "NONE",
        },
    )
    config = await world.urls.find(url_id)
    assert config is not None and await world.urls.policy(config) is not None
    await world.aliases.delete(SCOPE, "f", "live")
    config = await world.urls.find(url_id)
    assert config is not None
    assert await world.urls.policy(config) is None
