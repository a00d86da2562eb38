"""The queue-service backend contract: the same tests against SQLite and PostgreSQL.
Times are passed in (`now_ms`), so visibility lapses without anyone waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lambent.sqs.backend import Dedup, QueueBackend
from lambent.sqs.errors import QueueDoesNotExist
from lambent.sqs.model import Claim, Counts, QueueRecord, Redrive, VisibilityResult
from tests.contract.sqs_backends import (
    ACCOUNT,
    BACKENDS,
    HANG_S,
    T0,
    Opener,
    message,
    opener_for,
    queue,
)


@pytest.fixture(params=BACKENDS)
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    return opener_for(str(request.param), tmp_path, request)


@pytest.fixture
async def b(opener: Opener) -> AsyncIterator[QueueBackend]:
    backend = await asyncio.wait_for(opener(), HANG_S)
    try:
        yield backend
    finally:
        await backend.close()


async def _made(b: QueueBackend, record: QueueRecord) -> QueueRecord:
    return await b.create_queue(record)


def _claim(q: QueueRecord, now: int, limit: int = 10, vis_ms: int = 30_000, **kw: object) -> Claim:
    return Claim(q.id, now, limit, now + vis_ms, q.fifo, **kw)  # type: ignore[arg-type]


async def test_queues_are_created_once_found_listed_and_deleted(b: QueueBackend) -> None:
    first = await _made(b, queue("alpha"))
    again = await b.create_queue(queue("alpha", VisibilityTimeout="5"))
    assert again.id == first.id and again.attributes["VisibilityTimeout"] == "30"
    await _made(b, queue("beta"))
    await _made(b, queue("alps"))
    assert (await b.get_queue(ACCOUNT, "alpha")) == first
    assert (await b.get_queue_by_id(first.id)) == first
    names = [q.name for q in await b.list_queues(ACCOUNT, "al", "", 10)]
    assert names == ["alpha", "alps"]
    assert [q.name for q in await b.list_queues(ACCOUNT, "", "alpha", 1)] == ["alps"]
    assert await b.delete_queue(first.id, T0 + 5)
    assert await b.get_queue(ACCOUNT, "alpha") is None
    assert await b.deleted_at(ACCOUNT, "alpha") == T0 + 5
    assert not await b.delete_queue(first.id, T0 + 6)


async def test_a_receive_hides_messages_until_their_visibility_lapses(b: QueueBackend) -> None:
    q = await _made(b, queue())
    sent = await b.send(q.id, [message(f"m{i}") for i in range(3)], None)
    assert len({s.seq for s in sent}) == 3
    got = await b.claim(_claim(q, T0, limit=2))
    assert [m.body for m in got.messages] == ["m0", "m1"]
    assert all(m.receive_count == 1 and m.first_receive_ms == T0 for m in got.messages)
    rest = await b.claim(_claim(q, T0 + 1))
    assert [m.body for m in rest.messages] == ["m2"]
    assert (await b.claim(_claim(q, T0 + 2))).messages == []
    assert await b.counts(q.id, T0 + 2) == Counts(visible=0, in_flight=3, delayed=0)
    again = await b.claim(_claim(q, T0 + 30_000))
    assert sorted(m.body for m in again.messages) == ["m0", "m1"]
    assert all(m.receive_count == 2 and m.first_receive_ms == T0 for m in again.messages)


async def test_delete_needs_the_latest_receipt(b: QueueBackend) -> None:
    q = await _made(b, queue())
    await b.send(q.id, [message("x")], None)
    (old,) = (await b.claim(_claim(q, T0, vis_ms=10))).messages
    (new,) = (await b.claim(_claim(q, T0 + 10))).messages
    await b.delete_messages(q.id, [(old.seq, old.receipt)])
    assert (await b.counts(q.id, T0 + 11)).in_flight == 1
    await b.delete_messages(q.id, [(new.seq, new.receipt)])
    assert await b.counts(q.id, T0 + 11) == Counts(0, 0, 0)


async def test_visibility_changes_only_through_the_current_receipt(b: QueueBackend) -> None:
    q = await _made(b, queue())
    await b.send(q.id, [message("x")], None)
    (m,) = (await b.claim(_claim(q, T0))).messages
    limit = 43_200_000
    changed = await b.change_visibility(q.id, [(m.seq, m.receipt, T0 + 1)], T0, limit)
    assert changed == [VisibilityResult.CHANGED]
    assert await b.change_visibility(q.id, [(m.seq, "bogus", T0 + 5)], T0, limit) == [
        VisibilityResult.STALE
    ]
    assert await b.change_visibility(q.id, [(m.seq, m.receipt, T0 + 9)], T0 + 2, limit) == [
        VisibilityResult.NOT_IN_FLIGHT
    ]
    (m2,) = (await b.claim(_claim(q, T0 + 2))).messages
    too_long = await b.change_visibility(
        q.id, [(m2.seq, m2.receipt, T0 + 2 + limit + 1)], T0 + 3, limit
    )
    assert too_long == [VisibilityResult.TOO_LONG]


async def test_delayed_messages_count_as_delayed_until_due(b: QueueBackend) -> None:
    q = await _made(b, queue())
    await b.send(q.id, [message("later", visible_at_ms=T0 + 5_000)], None)
    assert await b.counts(q.id, T0) == Counts(0, 0, 1)
    got = await b.claim(_claim(q, T0))
    assert got.messages == [] and got.next_visible_ms == T0 + 5_000
    assert [m.body for m in (await b.claim(_claim(q, T0 + 5_000))).messages] == ["later"]
    assert (await b.all_counts(T0 + 5_001))[q.id] == Counts(0, 1, 0)


async def test_fifo_holds_a_group_while_it_has_a_message_in_flight(b: QueueBackend) -> None:
    q = await _made(b, queue("f.fifo", fifo=True))
    msgs = [message(f"{g}{i}", group_id=g, dedup_id=f"{g}{i}") for i in range(3) for g in "ab"]
    await b.send(q.id, msgs, Dedup(by_group=False))
    first = await b.claim(_claim(q, T0, limit=1))
    assert [m.body for m in first.messages] == ["a0"]
    second = await b.claim(_claim(q, T0, limit=10))
    assert [m.body for m in second.messages] == ["b0", "b1", "b2"]
    assert (await b.claim(_claim(q, T0))).messages == []
    (a0,) = first.messages
    await b.delete_messages(q.id, [(a0.seq, a0.receipt)])
    assert [m.body for m in (await b.claim(_claim(q, T0))).messages] == ["a1", "a2"]


async def test_fifo_deduplicates_within_the_window(b: QueueBackend) -> None:
    q = await _made(b, queue("d.fifo", fifo=True))
    dedup = Dedup(by_group=False, window_ms=300_000)
    (one,) = await b.send(q.id, [message("x", group_id="g", dedup_id="d1")], dedup)
    (dup,) = await b.send(q.id, [message("y", at=T0 + 1, group_id="g", dedup_id="d1")], dedup)
    assert dup.duplicate and dup.message_id == one.message_id and dup.seq == one.seq
    (late,) = await b.send(
        q.id, [message("z", at=T0 + 300_000, group_id="g", dedup_id="d1")], dedup
    )
    assert not late.duplicate
    by_group = Dedup(by_group=True)
    (other,) = await b.send(q.id, [message("w", group_id="h", dedup_id="d1")], by_group)
    assert not other.duplicate
    assert (await b.counts(q.id, T0 + 300_000)).visible == 3


async def test_a_receive_past_max_receives_moves_the_message_to_the_dlq(b: QueueBackend) -> None:
    dlq = await _made(b, queue("dlq"))
    q = await _made(b, queue("src"))
    await b.send(q.id, [message("poison")], None)
    redrive = Redrive(max_receives=2, dlq_id=dlq.id, dlq_retention_ms=1_000_000)
    now = T0
    for _ in range(2):
        got = await b.claim(_claim(q, now, vis_ms=1, redrive=redrive))
        assert [m.body for m in got.messages] == ["poison"]
        now += 1
    got = await b.claim(_claim(q, now, redrive=redrive))
    assert got.messages == [] and got.moved_to_dlq == 1
    moved = await b.claim(_claim(dlq, now))
    assert [(m.body, m.receive_count, m.sent_ms) for m in moved.messages] == [("poison", 1, T0)]


async def test_purge_expire_and_move(b: QueueBackend) -> None:
    q = await _made(b, queue("a"))
    dest = await _made(b, queue("b"))
    await b.send(q.id, [message("old", expires_ms=T0 + 10), message("new")], None)
    assert await b.expire(T0 + 10) == 1
    assert await b.move(q.id, dest.id, 10, T0 + 11) == 1
    assert [m.body for m in (await b.claim(_claim(dest, T0 + 11))).messages] == ["new"]
    await b.send(q.id, [message("p")], None)
    assert await b.purge(q.id) == 1
    assert await b.counts(q.id, T0) == Counts(0, 0, 0)


async def test_a_send_to_a_deleted_queue_fails(b: QueueBackend) -> None:
    q = await _made(b, queue())
    await b.delete_queue(q.id, T0)
    with pytest.raises(QueueDoesNotExist):
        await b.send(q.id, [message("x")], None)


async def test_what_was_accepted_and_deleted_survives_a_reopen(opener: Opener) -> None:
    b = await opener()
    q = await _made(b, queue())
    await b.send(q.id, [message("keep"), message("drop")], None)
    got = (await b.claim(_claim(q, T0))).messages
    drop = next(m for m in got if m.body == "drop")
    await b.delete_messages(q.id, [(drop.seq, drop.receipt)])
    await b.close()
    again = await opener()
    try:
        assert [m.body for m in (await again.claim(_claim(q, T0 + 30_000))).messages] == ["keep"]
    finally:
        await again.close()
