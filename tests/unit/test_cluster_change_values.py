"""The change feed's pure parts: a change's NOTIFY payload and the channels' names."""

from __future__ import annotations

from lambent.cluster.changes import Change, channels


def test_a_change_reads_back_from_its_payload() -> None:
    for change in (
        Change(7, "node-a", "123456789012", "fn", "$LATEST", False),
        Change(8, "node-b", "123456789012", "fn", "12", True),
        Change(9, "node-a", "123456789012", "fn", None, False),
    ):
        payload = f"{change.seq} {change.payload_tail()}"
        assert len(payload) < 8000  # NOTIFY's limit
        assert Change.parse(payload) == change


def test_each_schema_has_its_own_channels() -> None:
    one, two = channels("t_0011"), channels("public")
    assert len(set(one) | set(two)) == 4
    assert channels("t_0011") == one
    assert all(len(name) <= 63 for name in one + two)  # PostgreSQL identifiers
