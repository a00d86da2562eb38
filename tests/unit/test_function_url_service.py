"""The function URL control plane over a real SQLite store and the real function service."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambent.blobs.store import BlobStore
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
        uploads = ZipUploads(blobs, settings.limits.code_size_zipped)
        signer = CodeUrlSigner(self.catalog.repo, self.clock, ENDPOINT)
        self.provisioner = Provisioner(self.catalog, blobs.extracted)
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
        self.store.put("iam_role", ACCOUNT, "runner", {"RoleName": "runner", "Arn": ROLE})

    def create_function(self, name: str) -> None:
        self.functions.create(
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

    def create_url(self, name: str, **params: Any) -> dict[str, Any]:
        return self.urls.create(SCOPE, {"FunctionName": name, "AuthType": "NONE", **params})


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.provisioner.shutdown()
    w.store.close()


def test_create_then_get_update_delete(world: World) -> None:
    world.create_function("f")
    created = world.create_url("f", Cors={"AllowOrigins": ["*"]})
    assert created["FunctionArn"] == ARN + "f"
    assert created["FunctionUrl"].startswith(f"{ENDPOINT}/_lambent/url/")
    assert created["CreationTime"] == iso_time(world.clock.time())
    assert "LastModifiedTime" not in created and "InvokeMode" not in created
    got = world.urls.get(SCOPE, {"FunctionName": ARN + "f"})
    assert got["FunctionUrl"] == created["FunctionUrl"]
    assert got["LastModifiedTime"] == got["CreationTime"]

    world.clock.advance(5)
    updated = world.urls.update(
        SCOPE, {"FunctionName": "f", "AuthType": "AWS_IAM", "Cors": {"AllowCredentials": False}}
    )
    assert updated["AuthType"] == "AWS_IAM"
    assert updated["Cors"] == {"AllowCredentials": False}
    assert updated["FunctionUrl"] == created["FunctionUrl"]
    assert updated["LastModifiedTime"] == iso_time(world.clock.time())
    assert updated["CreationTime"] == created["CreationTime"]

    kept = world.urls.update(SCOPE, {"FunctionName": "f", "InvokeMode": "RESPONSE_STREAM"})
    assert kept["AuthType"] == "AWS_IAM" and kept["InvokeMode"] == "RESPONSE_STREAM"
    world.urls.delete(SCOPE, {"FunctionName": "f"})
    with pytest.raises(ResourceNotFound, match=r"The resource you requested does not exist\."):
        world.urls.get(SCOPE, {"FunctionName": "f"})
    with pytest.raises(ResourceNotFound):
        world.urls.delete(SCOPE, {"FunctionName": "f"})


def test_one_url_per_qualifier(world: World) -> None:
    world.create_function("f")
    world.create_url("f")
    with pytest.raises(ResourceConflict) as err:
        world.create_url("f:$LATEST")
    assert err.value.message == (
        f"Failed to create function url config for [functionArn = {ARN}f]. Error message:  "
        "FunctionUrlConfig exists for this Lambda function"
    )


def test_alias_urls_and_their_arns(world: World) -> None:
    world.create_function("f")
    world.aliases.create(SCOPE, {"FunctionName": "f", "Name": "live", "FunctionVersion": "$LATEST"})
    latest = world.create_url("f")
    live = world.create_url("f", Qualifier="live")
    assert live["FunctionArn"] == ARN + "f:live"
    assert live["FunctionUrl"] != latest["FunctionUrl"]
    assert world.urls.get(SCOPE, {"FunctionName": "f:live"})["FunctionArn"] == ARN + "f:live"
    with pytest.raises(ResourceNotFound, match="Function does not exist"):
        world.create_url("f", Qualifier="missing")


def test_versions_are_not_url_qualifiers(world: World) -> None:
    world.create_function("f")
    with pytest.raises(ValidationError, match="Value '1' at 'qualifier'"):
        world.create_url("f:1")
    with pytest.raises(InvalidParameterValue):
        world.create_url("f:a", Qualifier="b")


def test_unknown_function(world: World) -> None:
    for op in (world.urls.get, world.urls.delete, world.urls.list):
        with pytest.raises(ResourceNotFound, match="Function does not exist"):
            op(SCOPE, {"FunctionName": "nope"})
    with pytest.raises(ResourceNotFound, match="Function does not exist"):
        world.create_url("nope")


def test_list_pages_by_qualifier(world: World) -> None:
    world.create_function("f")
    assert world.urls.list(SCOPE, {"FunctionName": "f"}) == {"FunctionUrlConfigs": []}
    for alias in ("a1", "a2"):
        world.aliases.create(
            SCOPE, {"FunctionName": "f", "Name": alias, "FunctionVersion": "$LATEST"}
        )
        world.create_url("f", Qualifier=alias)
    world.create_url("f")
    everything = world.urls.list(SCOPE, {"FunctionName": "f"})["FunctionUrlConfigs"]
    assert [c["FunctionArn"] for c in everything] == [ARN + "f", ARN + "f:a1", ARN + "f:a2"]
    first = world.urls.list(SCOPE, {"FunctionName": "f", "MaxItems": 2})
    assert len(first["FunctionUrlConfigs"]) == 2
    rest = world.urls.list(
        SCOPE, {"FunctionName": "f", "MaxItems": 2, "Marker": first["NextMarker"]}
    )
    assert [c["FunctionArn"] for c in rest["FunctionUrlConfigs"]] == [ARN + "f:a2"]
    assert "NextMarker" not in rest


def test_deleting_the_function_deletes_its_urls(world: World) -> None:
    world.create_function("f")
    url = world.create_url("f")["FunctionUrl"]
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    assert world.urls.find(url_id) is not None
    world.functions.delete(SCOPE, "f", None)
    assert world.urls.find(url_id) is None
    assert world.urls.repo.by_id(url_id) is None  # purged, not just hidden
    world.create_function("f")
    with pytest.raises(ResourceNotFound):
        world.urls.get(SCOPE, {"FunctionName": "f"})
    assert world.create_url("f")["FunctionUrl"] != url


def test_stale_url_of_a_recreated_function_is_never_served(world: World) -> None:
    """Even if the purge notification was missed (crash), the URL dies with its function."""
    world.create_function("f")
    url_id = world.create_url("f")["FunctionUrl"].rstrip("/").rsplit("/", 1)[1]
    world.catalog.repo.delete_function(ACCOUNT, "f")  # behind the catalog's back
    world.catalog.invalidate(ACCOUNT, "f")
    world.create_function("f")
    assert world.urls.find(url_id) is None
    assert world.urls.list(SCOPE, {"FunctionName": "f"}) == {"FunctionUrlConfigs": []}
    world.create_url("f")  # the stale one does not block a new URL


def test_url_survives_its_alias_but_loses_the_alias_policy(world: World) -> None:
    world.create_function("f")
    world.aliases.create(SCOPE, {"FunctionName": "f", "Name": "live", "FunctionVersion": "$LATEST"})
    url_id = world.create_url("f", Qualifier="live")["FunctionUrl"].rstrip("/").rsplit("/", 1)[1]
    world.policies.add(
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
    config = world.urls.find(url_id)
    assert config is not None and world.urls.policy(config) is not None
    world.aliases.delete(SCOPE, "f", "live")
    config = world.urls.find(url_id)
    assert config is not None
    assert world.urls.policy(config) is None
