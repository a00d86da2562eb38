"""The pure parts of membership: the load snapshot's wire form."""

from __future__ import annotations

import json

from lambent.cluster.membership import LoadSnapshot


def test_a_load_snapshot_is_compact_and_reads_back() -> None:
    snap = LoadSnapshot(busy=3, memory_used_mb=512, idle={"acct/fn/$LATEST/abc": 2})
    text = snap.to_json()
    assert text == '{"b":3,"m":512,"i":{"acct/fn/$LATEST/abc":2}}'
    assert LoadSnapshot.from_doc(json.loads(text)) == snap
    draining = LoadSnapshot(accepts_new=False)
    assert LoadSnapshot.from_doc(json.loads(draining.to_json())) == draining
    assert LoadSnapshot.from_doc(None) is None
