"""One namespaces sandbox per test module (slots and /tmp images are made once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sandbox.support import Harness, harness


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with harness(tmp_path_factory.mktemp("sandbox"), network_slots_ready=4, scratch_ready=3) as h:
        yield h
