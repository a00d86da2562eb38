"""The `backend` fixture: each contract test runs once per Store implementation; `ledger_url`:
once per admission ledger (None: memory; a fresh PostgreSQL schema)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.stores import BACKENDS, Backend


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    found: Backend = request.param
    return found


@pytest.fixture(params=["memory", pytest.param("pg", marks=pytest.mark.services)])
def ledger_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "memory":
        yield None
        return
    from tests.pg import fresh_schema

    with fresh_schema() as url:
        yield url
