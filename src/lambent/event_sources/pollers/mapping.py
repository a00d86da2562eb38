"""One running mapping: lanes that gather a batch, filter it, invoke, and settle it.

Each lane is a task. A lane gathers a batch (batching.py), drops the records no filter
matches (the source deletes them, as Lambda does), invokes the function with the rest
(invoking.py) and settles the batch with the source. A throttle keeps the batch and
retries it after an exponential pause (0.1 s doubling to 5 s). The scaler decides how many
lanes run: a full batch starts one more, an empty receive ends the lane that saw it
(always one remains). `stop()` lets in-flight invokes finish and settle, then closes the
source; records a lane gathered but had not invoked stay leased in the source and come
back by its own timeout (SQS: the visibility timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lambent.clock import Clock
from lambent.event_sources.pollers.batching import Batcher
from lambent.event_sources.pollers.invoking import BatchInvoker, Retry, Target
from lambent.event_sources.pollers.metrics import MappingMetrics
from lambent.event_sources.pollers.scaling import Scaler
from lambent.event_sources.pollers.source import Failure, Record, Source, Success

log = logging.getLogger(__name__)

IDLE_WAIT_S = 1.0  # a receive's long poll: how soon a lane notices stop() when idle
BACKOFF_S = (0.1, 5.0)


@dataclass(frozen=True)
class PollerSpec:
    """What the mapping asks of its poller (from the stored document)."""

    target: Target
    keep: Callable[[dict[str, Any]], bool]  # the filter: True keeps the record
    maximum: int
    initial: int = 1


class MappingPoller:
    def __init__(
        self, source: Source, spec: PollerSpec, invoke: BatchInvoker, clock: Clock
    ) -> None:
        self.source = source
        self.spec = spec
        self._invoke = invoke
        self._clock = clock
        self.metrics = MappingMetrics()
        self._scaler = Scaler(maximum=spec.maximum, initial=spec.initial)
        self._lanes: dict[int, asyncio.Task[None]] = {}
        self._busy: set[int] = set()  # lanes with an invoke in flight: stop() waits for them
        self._stopping = False
        self._next = 0

    @property
    def running(self) -> bool:
        return bool(self._lanes) and not self._stopping

    def start(self) -> None:
        for _ in range(self._scaler.target):
            self._spawn()

    def _spawn(self) -> None:
        index = self._next
        self._next += 1
        self._lanes[index] = asyncio.create_task(self._lane(index), name=f"esm-lane-{index}")
        self.metrics.lanes = len(self._lanes)

    async def stop(self) -> None:
        """Stop gathering; wait for batches in flight to settle; close the source."""
        self._stopping = True
        lanes = list(self._lanes.values())
        for index, task in list(self._lanes.items()):
            if index not in self._busy:
                task.cancel()
        for task in lanes:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.source.close()

    async def _lane(self, index: int) -> None:
        batcher = Batcher()
        try:
            while not self._stopping:
                batch = await batcher.gather(self.source, self._clock, IDLE_WAIT_S)
                if not batch:
                    self._scaler.idle()
                    if len(self._lanes) > self._scaler.target:
                        return
                    continue
                if len(batch) >= self.source.batch_size and self._scaler.full_batch():
                    self._spawn()
                self._busy.add(index)
                try:
                    await self._run(batch)
                finally:
                    self._busy.discard(index)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event source mapping lane failed; it restarts")
            if not self._stopping:
                await self._clock.sleep(BACKOFF_S[0])
                self._spawn()
        finally:
            self._lanes.pop(index, None)
            self.metrics.lanes = len(self._lanes)

    async def _run(self, batch: list[Record]) -> None:
        kept = [r for r in batch if self.spec.keep(r.item)]
        if len(kept) < len(batch):
            dropped = [r for r in batch if not self.spec.keep(r.item)]
            self.metrics.filtered_out += len(dropped)
            await self.source.discard(dropped)
        if not kept:
            return
        payload = self.source.event(kept)
        ids = [r.record_id for r in kept]
        pause = BACKOFF_S[0]
        while True:
            self._enter()
            try:
                outcome = await self._invoke(self.spec.target, payload, ids)
            finally:
                self.metrics.in_flight -= 1
            if not isinstance(outcome, Retry):
                break
            self.metrics.throttles += 1
            if self._stopping:
                await self.source.settle(kept, Failure())
                return
            await self._clock.sleep(pause)
            pause = min(BACKOFF_S[1], pause * 2)
        self._count(kept, outcome)
        await self.source.settle(kept, outcome)

    def _enter(self) -> None:
        self.metrics.in_flight += 1
        self.metrics.peak_in_flight = max(self.metrics.peak_in_flight, self.metrics.in_flight)

    def _count(self, kept: Sequence[Record], outcome: Success | Failure) -> None:
        self.metrics.batches += 1
        self.metrics.records += len(kept)
        if isinstance(outcome, Failure):
            self.metrics.failures += 1
            failed = len(kept) if outcome.failed is None else len(outcome.failed)
            self.metrics.failed_records += failed
