"""Shared fixtures. `server` is one real `lambent serve` per test module (sigv4 auth)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import ServerProcess, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = start_server(tmp_path_factory.mktemp("lambent-data"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = start_server(tmp_path_factory.mktemp("lambent-open"), auth="open")
    yield srv
    srv.stop()
