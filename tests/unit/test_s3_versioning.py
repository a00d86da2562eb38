"""The bucket versioning lifecycle: every (state, event) pair."""

from __future__ import annotations

import itertools

import pytest

from lambent.s3.versioning import TABLE, Event, Versioning, reported, transition

EXPECTED = {
    (Versioning.UNVERSIONED, Event.ENABLE): Versioning.ENABLED,
    (Versioning.UNVERSIONED, Event.SUSPEND): Versioning.SUSPENDED,
    (Versioning.ENABLED, Event.ENABLE): Versioning.ENABLED,
    (Versioning.ENABLED, Event.SUSPEND): Versioning.SUSPENDED,
    (Versioning.SUSPENDED, Event.ENABLE): Versioning.ENABLED,
    (Versioning.SUSPENDED, Event.SUSPEND): Versioning.SUSPENDED,
}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(Versioning, Event)))
def test_every_pair(state: Versioning, event: Event) -> None:
    assert transition(state, event) is EXPECTED[(state, event)]


def test_the_table_is_complete_and_never_returns_to_unversioned() -> None:
    assert set(TABLE) == set(itertools.product(Versioning, Event))
    assert Versioning.UNVERSIONED not in TABLE.values()


def test_reported_status() -> None:
    assert reported(Versioning.UNVERSIONED) is None
    assert reported(Versioning.ENABLED) == "Enabled"
    assert reported(Versioning.SUSPENDED) == "Suspended"
    assert Event("Enabled") is Event.ENABLE and Event("Suspended") is Event.SUSPEND
