"""Gathering one batch, as Lambda's pollers do.

A batch is sent when it holds BatchSize records, when adding the next record would take
its payload past 6 MB, or when MaximumBatchingWindowInSeconds has passed since gathering
began (a window of 0 sends whatever one receive returned). Records past the 6 MB cap are
carried over to the lane's next batch rather than returned to the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lambent.clock import Clock
from lambent.event_sources.pollers.source import MAX_BATCH_BYTES, Record, Source

# Envelope bytes of the event around its records ({"Records": [...]}), and per record (",").
ENVELOPE = 16
# One receive waits at most this long for a first record (SQS's long-poll ceiling).
LONG_POLL_S = 20.0
# A receive returns at most this many records (SQS's MaxNumberOfMessages).
RECEIVE_MAX = 10


@dataclass
class Batcher:
    """Per lane: the records left over from the last batch because of the payload cap."""

    carry: list[Record] = field(default_factory=list)

    async def gather(self, source: Source, clock: Clock, idle_wait_s: float) -> list[Record]:
        """The next batch: empty when `idle_wait_s` passed with nothing to read. The window
        opens with the first record (an idle queue costs long polls, not invokes)."""
        batch: list[Record] = []
        used = ENVELOPE
        pending, self.carry = self.carry, []
        if not pending:
            pending = await source.receive(self._want(source, 0), min(LONG_POLL_S, idle_wait_s))
        opened = clock.monotonic()
        window = max(0.0, source.window_s)
        while pending:
            for i, record in enumerate(pending):
                if len(batch) == source.batch_size or (
                    batch and used + record.size + 1 > MAX_BATCH_BYTES
                ):
                    self.carry = pending[i:]
                    return batch
                batch.append(record)
                used += record.size + 1
            left = window - (clock.monotonic() - opened)
            if len(batch) >= source.batch_size or left <= 0:
                return batch
            pending = await source.receive(self._want(source, len(batch)), left)
        return batch

    @staticmethod
    def _want(source: Source, have: int) -> int:
        return max(1, min(RECEIVE_MAX, source.batch_size - have))
