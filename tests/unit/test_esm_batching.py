"""Gathering a batch (BatchSize, the batching window, the 6 MB cap) and reading a
function's ReportBatchItemFailures answer as AWS documents, on the injected clock."""

from __future__ import annotations

import asyncio

import pytest

from lambent.clock import ManualClock
from lambent.event_sources.pollers.batching import Batcher
from lambent.event_sources.pollers.responses import settlement
from lambent.event_sources.pollers.source import MAX_BATCH_BYTES, Failure, Success
from tests.unit.esm_fakes import FakeSource, spin


async def test_no_window_sends_what_one_receive_brought() -> None:
    clock = ManualClock()
    source = FakeSource(clock, batch_size=10)
    source.put("a", "b", "c")
    batch = await Batcher().gather(source, clock, 1.0)
    assert [r.item["body"] for r in batch] == ["a", "b", "c"]
    assert source.receives == 1


async def test_batch_size_bounds_a_batch_and_the_rest_waits() -> None:
    clock = ManualClock()
    source = FakeSource(clock, batch_size=3)
    source.put(*"abcdefg")
    batch = await Batcher().gather(source, clock, 1.0)
    assert len(batch) == 3
    assert len(source.visible) == 4


async def test_window_gathers_until_it_closes() -> None:
    clock = ManualClock()
    source = FakeSource(clock, batch_size=100, window_s=5.0)
    source.put("first")
    task = asyncio.create_task(Batcher().gather(source, clock, 1.0))
    await spin()
    clock.advance(2.0)
    source.put("second")
    await spin()
    assert not task.done()
    clock.advance(2.9)
    await spin()
    assert not task.done()  # not a tick before the window closes
    clock.advance(0.1)
    await spin()
    assert [r.item["body"] for r in task.result()] == ["first", "second"]


async def test_window_ends_early_when_the_batch_is_full() -> None:
    clock = ManualClock()
    source = FakeSource(clock, batch_size=12, window_s=300.0)
    source.put(*[str(i) for i in range(12)])
    batch = await Batcher().gather(source, clock, 1.0)
    assert len(batch) == 12


async def test_idle_receive_returns_empty_after_its_wait() -> None:
    clock = ManualClock()
    source = FakeSource(clock)
    task = asyncio.create_task(Batcher().gather(source, clock, 1.0))
    await spin()
    assert not task.done()
    clock.advance(1.0)
    await spin()
    assert task.result() == []


async def test_payload_cap_carries_the_rest_to_the_next_batch() -> None:
    clock = ManualClock()
    source = FakeSource(clock, batch_size=10)
    source.put("a", "b", "c", size=MAX_BATCH_BYTES // 2 - 5)
    batcher = Batcher()
    first = await batcher.gather(source, clock, 1.0)
    assert [r.item["body"] for r in first] == ["a"]  # a and b would pass 6 MB with framing
    second = await batcher.gather(source, clock, 1.0)
    assert [r.item["body"] for r in second] == ["b"]
    assert [r.item["body"] for r in await batcher.gather(source, clock, 1.0)] == ["c"]


IDS = ["a", "b", "c"]


@pytest.mark.parametrize(
    "payload",
    [b"", b"null", b"{}", b'{"batchItemFailures": []}', b'{"batchItemFailures": null}'],
)
def test_reported_success(payload: bytes) -> None:
    assert settlement(payload, IDS, True) == Success()


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"batchItemFailures": [{"itemIdentifier": ""}]}',
        b'{"batchItemFailures": [{"itemIdentifier": null}]}',
        b'{"batchItemFailures": [{"itemId": "a"}]}',
        b'{"batchItemFailures": [{"itemIdentifier": "zzz"}]}',
        b'{"batchItemFailures": "a"}',
    ],
)
def test_reported_complete_failure(payload: bytes) -> None:
    assert settlement(payload, IDS, True) == Failure()


def test_only_the_listed_items_fail() -> None:
    payload = b'{"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "c"}]}'
    assert settlement(payload, IDS, True) == Failure(frozenset({"a", "c"}))


def test_without_report_batch_item_failures_an_answer_is_success() -> None:
    payload = b'{"batchItemFailures": [{"itemIdentifier": "a"}]}'
    assert settlement(payload, IDS, False) == Success()
