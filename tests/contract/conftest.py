"""The `backend` fixture: each contract test runs once per Store implementation."""

from __future__ import annotations

import pytest

from tests.contract.stores import BACKENDS, Backend


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    found: Backend = request.param
    return found
