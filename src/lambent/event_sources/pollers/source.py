"""The contract between the poller framework and one kind of event source.

A source is built per mapping by its factory (from the stored mapping document) and is
driven by the lanes of one MappingPoller: `receive` and `settle` may run concurrently
from several lanes, so a source keeps no per-batch state of its own between them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lambent.store.interface import Doc

# Lambda's cap on one batch's payload (6 MB, the synchronous invoke limit).
MAX_BATCH_BYTES = 6 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Record:
    """One record as its source hands it over: `record_id` is what a function names in
    `batchItemFailures` (SQS: messageId), `item` the record's part of the event, `size`
    what it adds to the payload, `group` the ordering key (FIFO group, shard), if any."""

    record_id: str
    item: dict[str, Any]
    size: int
    group: str | None = None
    sent_at: float = 0.0  # epoch seconds, for latency and age metrics


@dataclass(frozen=True, slots=True)
class Success:
    """Every record of the batch is done."""


@dataclass(frozen=True, slots=True)
class Failure:
    """`failed` ids return to the source for a retry; None means the whole batch."""

    failed: frozenset[str] | None = None


Settlement = Success | Failure


@dataclass(frozen=True, slots=True)
class Backlog:
    waiting: int = 0
    oldest_age_s: float = 0.0
    extra: dict[str, int] = field(default_factory=dict)


class Source(Protocol):
    @property
    def max_concurrency(self) -> int:
        """How many batches of this mapping may be in flight at once."""

    @property
    def batch_size(self) -> int: ...

    @property
    def filter_key(self) -> tuple[str, bool]:
        """The record field FilterCriteria parse as JSON (SQS: "body"), and whether it is
        base64 first (Kinesis, MQ: "data")."""

    @property
    def window_s(self) -> float:
        """MaximumBatchingWindowInSeconds: how long to gather a batch that is not full."""

    async def receive(self, max_records: int, wait_s: float) -> list[Record]:
        """Up to `max_records`, waiting at most `wait_s` for the first; leased to the caller
        until settled (or until the source's own timeout returns them)."""

    def event(self, records: Sequence[Record]) -> bytes:
        """The invocation payload for this batch, byte for byte what AWS sends."""

    async def settle(self, records: Sequence[Record], outcome: Settlement) -> None:
        """Finish a batch: delete what succeeded, return what failed."""

    async def discard(self, records: Sequence[Record]) -> None:
        """Records the mapping's filters dropped (Lambda deletes them unseen)."""

    async def backlog(self) -> Backlog: ...

    async def close(self) -> None: ...


# A Source for a stored mapping document; raises SourceUnavailable when it cannot (the
# queue is gone): the supervisor retries at its next pass.
SourceFactory = Callable[[Doc], Awaitable[Source]]


class SourceUnavailable(Exception):
    pass
