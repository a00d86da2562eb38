"""The scheduler's view of what is due: an invalidation that lands while the queue is
answering is not lost (the answer may predate what invalidated it)."""

from __future__ import annotations

import asyncio

from lambent.async_invoke.due import DueView
from lambent.async_invoke.memory import MemoryQueue
from lambent.async_invoke.queue import DueFunction
from tests.contract.queues import FN, T0, event


class SlowQueue(MemoryQueue):
    """Answers `due_functions` only once let go, as a queue on another connection may
    answer from before a commit that finished meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0
        self.go = asyncio.Event()

    async def due_functions(self, now: float, cap: int) -> list[DueFunction]:
        self.asked += 1
        found = await super().due_functions(now, cap)
        await self.go.wait()
        return found


async def test_an_invalidation_during_the_query_makes_the_next_pass_ask_again() -> None:
    queue = SlowQueue()
    view = DueView(queue)
    asking = asyncio.create_task(view.due(T0, cap=10))
    await asyncio.sleep(0)  # the query is under way and has read the (empty) queue
    await queue.enqueue(event("e"))
    view.invalidate()  # what an acceptance does once its enqueue returned
    queue.go.set()
    assert await asking == []  # this pass's answer predates the event
    assert [d.function_arn for d in await view.due(T0, cap=10)] == [FN]
    assert queue.asked == 2


async def test_without_invalidation_the_counts_are_kept() -> None:
    queue = SlowQueue()
    queue.go.set()
    view = DueView(queue)
    await queue.enqueue(event("e"))
    assert len(await view.due(T0, cap=10)) == 1
    assert len(await view.due(T0, cap=10)) == 1
    assert queue.asked == 1
