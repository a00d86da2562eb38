"""Shared fixtures. `server` is one real `lambent serve` per test module (sigv4 auth)."""

from __future__ import annotations

import signal
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


# Modules whose tests run the official runtime clients, which are built from source on
# this machine (npm compiles aws-lambda-ric's curl): minutes on a busy machine, once per
# cache. They are built after collection, before any test starts, so no test's own hang
# bound (pytest-timeout) has to cover a compiler.
_OFFICIAL_CLIENT_MODULES = {
    "tests.integration.test_official_clients",
    "tests.integration.test_logging_config",
    "tests.unit.test_runtime_official_clients",
}


def pytest_collection_finish(session: pytest.Session) -> None:
    modules = {getattr(getattr(item, "module", None), "__name__", "") for item in session.items}
    if modules & _OFFICIAL_CLIENT_MODULES and not session.config.option.collectonly:
        from tests.fixtures import functions

        functions.prebuild_official_clients()


def pytest_configure(config: pytest.Config) -> None:
    """A suite started in the background (`cmd &` in a script) inherits SIGINT ignored, and
    so would every command a test starts; tests that press Ctrl-C on one expect what a
    terminal's foreground command has. A handled signal is reset to its default at exec."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database URL on a fresh PostgreSQL schema of this test's own (tests/pg.py)."""
    from tests.pg import fresh_schema

    with fresh_schema() as url:
        yield url
