"""Message move tasks: StartMessageMoveTask / ListMessageMoveTasks / CancelMessageMoveTask.

A task moves a dead-letter queue's available messages to a destination queue in batches
(at most `MaxNumberOfMessagesPerSecond` a second when given), on the node that started it,
until the DLQ has none left or it is cancelled. Each batch is one backend transaction
(`move`): a message is in one queue or the other, never both nor neither. Tasks are kept in
this node's memory: a restart ends them, and the messages moved so far stay moved (what a
task has not moved stays in the DLQ, where a new task finds it)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lambent.clock import Clock
from lambent.sqs.backend import QueueBackend
from lambent.sqs.errors import SqsResourceNotFound, UnsupportedOperation, invalid_value
from lambent.sqs.model import QueueRecord

log = logging.getLogger(__name__)
BATCH = 100
MAX_RATE = 500
HISTORY = 10  # tasks remembered per source queue (ListMessageMoveTasks' maximum)


@dataclass
class MoveTask:
    handle: str
    source: QueueRecord
    destination: QueueRecord
    rate: int | None
    started_ms: int
    to_move: int
    moved: int = 0
    status: str = "RUNNING"
    failure: str | None = None
    runner: asyncio.Task[None] | None = field(default=None, repr=False)

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Status": self.status,
            "SourceArn": self.source.arn,
            "DestinationArn": self.destination.arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "StartedTimestamp": self.started_ms,
        }
        if self.status == "RUNNING":
            out["TaskHandle"] = self.handle
        if self.rate is not None:
            out["MaxNumberOfMessagesPerSecond"] = self.rate
        if self.failure:
            out["FailureReason"] = self.failure
        return out


class MoveTasks:
    def __init__(self, backend: QueueBackend, clock: Clock, wake: Callable[[str], None]) -> None:
        """`wake(queue_id)`: messages arrived in the destination (its receives wake)."""
        self._backend = backend
        self._clock = clock
        self._wake = wake
        self._by_source: dict[str, list[MoveTask]] = {}

    async def start(
        self, source: QueueRecord, destination: QueueRecord, rate: int | None, to_move: int
    ) -> MoveTask:
        if rate is not None and not 1 <= rate <= MAX_RATE:
            raise invalid_value(
                "MaxNumberOfMessagesPerSecond", rate, f"Must be between 1 and {MAX_RATE}."
            )
        running = [t for t in self._by_source.get(source.arn, []) if t.status == "RUNNING"]
        if running:
            raise UnsupportedOperation(
                "There is already a task running. Only one active task is allowed for a "
                "source queue arn at a given time."
            )
        handle = base64.b64encode(
            json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source.arn}).encode()
        ).decode()
        task = MoveTask(handle, source, destination, rate, self._now(), to_move)
        history = self._by_source.setdefault(source.arn, [])
        history.insert(0, task)
        del history[HISTORY:]
        task.runner = asyncio.create_task(self._run(task), name="sqs-move-task")
        return task

    def _now(self) -> int:
        return int(self._clock.time() * 1000)

    async def _run(self, task: MoveTask) -> None:
        per_batch = min(BATCH, task.rate or BATCH)
        try:
            while task.status == "RUNNING":
                moved = await self._backend.move(
                    task.source.id, task.destination.id, per_batch, self._now()
                )
                task.moved += moved
                if moved:
                    self._wake(task.destination.id)
                if moved == 0:
                    task.status = "COMPLETED"
                    return
                if task.rate is not None:
                    await self._clock.sleep(moved / task.rate)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed batch moved nothing (one transaction)
            log.exception("sqs: move task from %s failed", task.source.arn)
            task.status, task.failure = "FAILED", str(exc) or type(exc).__name__

    def list(self, source_arn: str, limit: int) -> list[dict[str, Any]]:
        return [t.view() for t in self._by_source.get(source_arn, [])[:limit]]

    async def cancel(self, handle: str) -> int:
        for tasks in self._by_source.values():
            for task in tasks:
                if task.handle == handle and task.status == "RUNNING":
                    task.status = "CANCELLED"
                    if task.runner is not None:
                        task.runner.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task.runner
                    return task.moved
        raise SqsResourceNotFound("Task does not exist.")

    async def close(self) -> None:
        for tasks in self._by_source.values():
            for task in tasks:
                if task.runner is not None and not task.runner.done():
                    task.runner.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task.runner
