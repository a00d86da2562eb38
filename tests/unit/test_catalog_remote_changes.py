"""The catalog's side of the change feed: what a write tells the other nodes, and what a
node does with another's write. Two catalogs over one store stand for two nodes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lambent.functions.catalog import StoreCatalog
from tests.unit.test_functions_catalog import ACCOUNT, SCOPE, Recorder, World

Published = tuple[str, str, str | None, bool]


class Publisher:
    def __init__(self) -> None:
        self.published: list[Published] = []

    async def publish(
        self, account: str, name: str, version: str | None, *, published: bool
    ) -> None:
        self.published.append((account, name, version, published))


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = World(tmp_path)
    await w.start()
    yield w
    await w.close()


async def other_node(world: World) -> tuple[StoreCatalog, Recorder]:
    catalog = StoreCatalog(world.store, world.settings, world.clock)
    await catalog.start()
    listener = Recorder()
    catalog.subscribe(listener)
    return catalog, listener


async def test_every_write_is_published_after_it_is_applied_here(world: World) -> None:
    publisher = Publisher()
    world.catalog.attach_publisher(publisher)
    await world.create("f")
    await world.functions.update_configuration(SCOPE, {"FunctionName": "f", "Timeout": 9})
    await world.settle("f")
    await world.functions.publish_version(SCOPE, {"FunctionName": "f"})
    assert (ACCOUNT, "f", "$LATEST", False) in publisher.published
    assert (ACCOUNT, "f", "1", True) in publisher.published
    # Every change told here was told to the other nodes too.
    told = {(a, n, v) for a, n, v, p in publisher.published if not p and v is not None}
    assert set(world.listener.changed) <= told


async def test_another_nodes_write_refreshes_this_cache(world: World) -> None:
    await world.create("f")
    b, listener = await other_node(world)
    before = (await b.resolve(ACCOUNT, "f", None)).version
    await world.functions.update_configuration(SCOPE, {"FunctionName": "f", "MemorySize": 512})
    await world.settle("f")
    assert (await b.resolve(ACCOUNT, "f", None)).version is before  # cached, stale
    await b.apply_remote(ACCOUNT, "f", "$LATEST", published=False)
    assert (await b.resolve(ACCOUNT, "f", None)).version.memory_mb == 512
    assert listener.changed == [(ACCOUNT, "f", "$LATEST")]


async def test_another_nodes_publication_refreshes_but_starts_nothing(world: World) -> None:
    await world.create("f")
    b, listener = await other_node(world)
    await b.resolve(ACCOUNT, "f", None)
    await world.functions.publish_version(SCOPE, {"FunctionName": "f"})
    await b.apply_remote(ACCOUNT, "f", "1", published=True)
    assert b.cached_version(ACCOUNT, "f", "1") is not None
    assert listener.published == []  # its snapshot is the publishing node's work


async def test_forgetting_everything_reloads_and_tells_the_data_plane(world: World) -> None:
    await world.create("f")
    b, listener = await other_node(world)
    before = (await b.resolve(ACCOUNT, "f", None)).version
    await world.functions.update_configuration(SCOPE, {"FunctionName": "f", "Timeout": 7})
    await world.settle("f")
    await b.invalidate_all()
    after = (await b.resolve(ACCOUNT, "f", None)).version
    assert (before.timeout_s, after.timeout_s) == (3, 7)
    assert listener.changed == [(ACCOUNT, "f", "$LATEST")]
