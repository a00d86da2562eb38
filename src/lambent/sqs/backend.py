"""The storage interface of the queue service, asynchronous, with one contract suite
(tests/contract/test_sqs_backend.py) for its implementations: SQLite (`sqlite.py`, one
server) and PostgreSQL (`postgres.py`, shared by a cluster's nodes).

A backend keeps queues (records by account and name, each incarnation its own id) and
their messages. It decides nothing about SQS's rules (the service does) except what must
be atomic with the data: which messages a receive claims (FIFO: none of a group that has
one in flight), a redrive to a dead-letter queue during that claim, FIFO deduplication,
and whether a receipt still holds the message it names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from lambent.sqs.model import Claim, Claimed, Counts, NewMessage, QueueRecord, Sent

DEDUP_WINDOW_MS = 5 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Dedup:
    """FIFO deduplication for a send: ids seen within the window are not stored again;
    `by_group` scopes ids to their message group (DeduplicationScope=messageGroup)."""

    by_group: bool
    window_ms: int = DEDUP_WINDOW_MS


@dataclass(frozen=True, slots=True)
class Moved:
    """A message moved between queues by a redrive or a move task."""

    count: int


class QueueBackend(Protocol):
    async def create_queue(self, record: QueueRecord) -> QueueRecord:
        """Store `record` unless a queue of that account and name exists; the stored one."""
        ...

    async def get_queue(self, account: str, name: str) -> QueueRecord | None: ...

    async def get_queue_by_id(self, queue_id: str) -> QueueRecord | None: ...

    async def list_queues(
        self, account: str | None, prefix: str, after: str, limit: int
    ) -> list[QueueRecord]:
        """Queues in name order (account None: every account, by account then name)."""
        ...

    async def update_queue(self, record: QueueRecord) -> bool:
        """Replace the record with this id; False if it is gone."""
        ...

    async def delete_queue(self, queue_id: str, now_ms: int) -> bool:
        """Delete the queue and its messages; remember when its name was freed."""
        ...

    async def deleted_at(self, account: str, name: str) -> int | None:
        """When a queue of this name was last deleted (ms), if ever."""
        ...

    async def send(
        self, queue_id: str, messages: Sequence[NewMessage], dedup: Dedup | None
    ) -> list[Sent]:
        """Accept the messages (durably) in one transaction; QueueDoesNotExist if the queue
        is gone."""
        ...

    async def claim(self, claim: Claim) -> Claimed: ...

    async def delete_messages(self, queue_id: str, receipts: Sequence[tuple[int, str]]) -> None:
        """Delete each message whose current receipt is this one (others: nothing)."""
        ...

    async def change_visibility(
        self,
        queue_id: str,
        changes: Sequence[tuple[int, str, int]],
        now_ms: int,
        max_total_ms: int,
    ) -> list[str]:
        """(seq, receipt, visible_at_ms) each; a VisibilityResult per change. A change
        beyond `max_total_ms` after the receive is "too-long"."""
        ...

    async def purge(self, queue_id: str) -> int: ...

    async def counts(self, queue_id: str, now_ms: int) -> Counts: ...

    async def all_counts(self, now_ms: int) -> dict[str, Counts]:
        """Counts of every queue with messages, by queue id."""
        ...

    async def expire(self, now_ms: int) -> int:
        """Delete messages past their retention; how many."""
        ...

    async def move(self, source_id: str, dest_id: str, limit: int, now_ms: int) -> int:
        """Move up to `limit` available messages from one queue to another (a move task)."""
        ...

    def on_remote_send(self, wake: Callable[[str], None]) -> None:
        """Call `wake(queue_id)` when another node accepted messages into a queue."""
        ...

    async def close(self) -> None: ...
