"""The `backend` fixture: each contract test runs once per Store implementation (bound to
a fresh PostgreSQL schema for PostgreSQL; `indirect=True` narrows it to a subset);
`ledger_url`: once per admission ledger (None: memory; a fresh PostgreSQL schema)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.stores import BACKENDS, Backend


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    found: Backend = request.param
    with found.bound() as ready:
        yield ready


@pytest.fixture(params=["memory", pytest.param("pg", marks=pytest.mark.services)])
def ledger_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "memory":
        yield None
        return
    from tests.pg import fresh_schema

    with fresh_schema() as url:
        yield url
