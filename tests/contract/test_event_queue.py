"""The event queue contract: the same tests against every implementation (memory, SQLite,
PostgreSQL). Times are passed in as `now`, so leases lapse without anyone waiting.

What only one implementation promises lives with it: SQLite's file and fsyncs in
tests/unit/test_async_queue.py, PostgreSQL's nodes in test_event_queue_cluster.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lambent.async_invoke.event import EventState, QueuedEvent, Response
from lambent.async_invoke.queue import EventQueue
from tests.contract.queues import (
    DEST,
    FN,
    HANG_S,
    LEASE,
    OTHER,
    QUEUES,
    T0,
    Opener,
    event,
    ids,
    opener_for,
)


@pytest.fixture(params=QUEUES)
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    return opener_for(str(request.param), tmp_path, request)


@pytest.fixture
async def q(opener: Opener) -> AsyncIterator[EventQueue]:
    queue = await asyncio.wait_for(opener.open(), HANG_S)
    try:
        yield queue
    finally:
        await asyncio.wait_for(queue.close(), HANG_S)


async def test_enqueue_then_claim_returns_the_event_whole(q: EventQueue) -> None:
    state = EventState(
        enqueued_at=T0,
        attempts=1,
        backoffs=2,
        trace_id="Root=1-abc",
        last_response=Response(b'{"errorMessage":"x"}', "$LATEST", "Unhandled"),
    )
    original = QueuedEvent("e1", DEST, b'{"k": "\xc3\xa9"}', state, available_at=T0)
    await q.enqueue(original)
    assert await q.claim(FN, T0, 10, LEASE) == [original]


async def test_claim_takes_due_events_oldest_first_up_to_limit(q: EventQueue) -> None:
    await q.enqueue(event("late", T0 + 5))
    await q.enqueue(event("b", T0 + 1))
    await q.enqueue(event("a", T0))
    await q.enqueue(event("c", T0 + 1))
    assert ids(await q.claim(FN, T0 + 1, 2, LEASE)) == ["a", "b"]  # same due: accepted first
    assert ids(await q.claim(FN, T0 + 1, 10, LEASE)) == ["c"]
    assert ids(await q.claim(FN, T0 + 5, 10, LEASE)) == ["late"]


async def test_claim_limits(q: EventQueue) -> None:
    for i in range(5):
        await q.enqueue(event(f"e{i}"))
    assert await q.claim(FN, T0, 0, LEASE) == []
    assert len(await q.claim(FN, T0, 1, LEASE)) == 1
    assert len(await q.claim(FN, T0, 3, LEASE)) == 3
    assert len(await q.claim(FN, T0, 3, LEASE)) == 1


async def test_a_claimed_event_is_not_handed_out_twice(q: EventQueue) -> None:
    await q.enqueue(event("e"))
    assert len(await q.claim(FN, T0, 10, LEASE)) == 1
    assert await q.claim(FN, T0 + 1, 10, LEASE) == []


async def test_complete_removes_the_event(q: EventQueue) -> None:
    await q.enqueue(event("e"))
    await q.claim(FN, T0, 1, LEASE)
    await q.complete("e")
    stats = await q.stats()
    assert (stats.queued, stats.claimed, await q.next_due(T0 - 1)) == (0, 0, None)
    assert await q.claim(FN, T0 + LEASE, 10, LEASE) == []  # not even once its lease is over


async def test_reschedule_stores_state_and_due_time(q: EventQueue) -> None:
    new_state = EventState(enqueued_at=T0, attempts=1, trace_id="t")
    await q.enqueue(event("e", payload=b'{"keep": true}'))
    await q.claim(FN, T0, 1, LEASE)
    await q.reschedule("e", new_state, T0 + 60)
    assert await q.claim(FN, T0 + 59, 10, LEASE) == []
    assert await q.next_due(T0 + 59) == T0 + 60
    assert (await q.stats()).claimed == 0
    later = await q.claim(FN, T0 + 60, 10, LEASE)
    assert later == [QueuedEvent("e", DEST, b'{"keep": true}', new_state, T0 + 60)]


async def test_release_hands_claims_back_unchanged(q: EventQueue) -> None:
    await q.enqueue(event("a"))
    await q.enqueue(event("b"))
    await q.claim(FN, T0, 10, LEASE)
    await q.release(["a", "b"])
    assert await q.claim(FN, T0, 10, LEASE) == [event("a"), event("b")]


async def test_recover_requeues_every_claim(q: EventQueue) -> None:
    for name in ("a", "b", "c"):
        await q.enqueue(event(name))
    await q.claim(FN, T0, 2, LEASE)
    assert (await q.stats()).claimed == 2
    assert await q.recover() == 2
    assert ids(await q.claim(FN, T0, 10, LEASE)) == ["a", "b", "c"]


async def test_an_expired_lease_makes_the_event_claimable(q: EventQueue) -> None:
    await q.enqueue(event("e"))
    await q.claim(FN, T0, 1, 30.0)
    assert await q.claim(FN, T0 + 29, 1, 30.0) == []
    assert await q.next_due(T0 + 29) == T0 + 30
    assert ids(await q.claim(FN, T0 + 30, 1, 30.0)) == ["e"]
    assert await q.claim(FN, T0 + 31, 1, 30.0) == []  # leased again, to the new claim


async def test_enqueueing_an_id_twice_keeps_the_first(q: EventQueue) -> None:
    await q.enqueue(event("e", payload=b"1"))
    await q.enqueue(event("e", payload=b"2"))
    assert await q.claim(FN, T0, 10, LEASE) == [event("e", payload=b"1")]
    await q.enqueue(event("e", payload=b"3"))  # a retried acceptance of a claimed event
    assert (await q.stats()).queued == 0


async def test_concurrent_acceptances_all_land(q: EventQueue) -> None:
    await asyncio.gather(*(q.enqueue(event(f"e{i}")) for i in range(300)))
    assert (await q.stats()).queued == 300
    assert set(ids(await q.claim(FN, T0, 1000, LEASE))) == {f"e{i}" for i in range(300)}


async def test_next_due_is_the_earliest_claimable_time_after_now(q: EventQueue) -> None:
    assert await q.next_due(T0) is None
    await q.enqueue(event("later", T0 + 50))
    await q.enqueue(event("now", T0))
    await q.enqueue(event("due", T0 - 5))  # due already: not "later"
    await q.claim(FN, T0 - 5, 1, 10.0)  # "due" leased until T0 + 5
    assert await q.next_due(T0) == T0 + 5
    assert await q.next_due(T0 + 5) == T0 + 50


async def test_due_functions_counts_each_functions_due_events_oldest_first(
    q: EventQueue,
) -> None:
    for i in range(5):
        await q.enqueue(event(f"fn{i}", T0 + i))
    await q.enqueue(event("o1", T0 - 1, dest=OTHER))
    await q.enqueue(event("o2", T0 + 100, dest=OTHER))  # not due yet
    await q.claim(FN, T0, 1, LEASE)  # fn0 is running: not due
    due = await q.due_functions(T0 + 3, cap=10)
    capped = await q.due_functions(T0 + 3, cap=2)
    assert [(d.function_name, d.count, d.due_at) for d in due + capped] == [
        ("other", 1, T0 - 1),
        ("fn", 3, T0 + 1),
        ("other", 1, T0 - 1),
        ("fn", 2, T0 + 1),
    ]
    assert [d.account_id for d in due] == ["123456789012", "123456789012"]


async def test_due_functions_include_lapsed_leases(q: EventQueue) -> None:
    await q.enqueue(event("a"))
    await q.enqueue(event("b", T0 + 20))
    await q.claim(FN, T0, 1, 30.0)  # "a" leased until T0 + 30
    assert [d.count for d in await q.due_functions(T0 + 29, cap=10)] == [1]
    assert [d.count for d in await q.due_functions(T0 + 30, cap=10)] == [2]
    # The lapsed lease is handed out first: that event has waited longest.
    assert ids(await q.claim(FN, T0 + 30, 10, LEASE)) == ["a", "b"]


async def test_claim_takes_only_the_named_functions_events(q: EventQueue) -> None:
    await q.enqueue(event("o", T0 - 10, dest=OTHER))
    await q.enqueue(event("f", T0))
    assert ids(await q.claim(FN, T0, 10, LEASE)) == ["f"]
    assert ids(await q.claim(OTHER.function_arn, T0, 10, LEASE)) == ["o"]
    assert await q.due_functions(T0, cap=10) == []


async def test_what_was_committed_survives_reopen(opener: Opener) -> None:
    if not opener.durable:
        pytest.skip(f"{opener.name} keeps nothing across instances, by design")
    first = await opener.open()
    try:
        for name in ("a", "b", "c", "d"):
            await first.enqueue(event(name))
        await first.claim(FN, T0, 3, LEASE)
        await first.reschedule("c", EventState(enqueued_at=T0, attempts=2), T0 + 5)
        await first.complete("b")
    finally:
        await first.close()
    second = await opener.open()
    try:
        assert await second.recover() == 1  # "a": claimed, never settled
        events = await second.claim(FN, T0 + 5, 10, LEASE)
        assert ids(events) == ["a", "d", "c"]
        assert events[2].state.attempts == 2
    finally:
        await second.close()


async def test_one_node_sees_no_claims_elsewhere(q: EventQueue) -> None:
    await q.enqueue(event("e"))
    await q.claim(FN, T0, 1, LEASE)
    assert not await q.claimed_elsewhere(DEST.account_id, FN, T0 + 1)
    assert not await q.claimed_elsewhere(DEST.account_id, None, T0 + 1)
