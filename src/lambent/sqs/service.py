"""The queue service's domain API: what the SQS handlers and the event source pollers call.

For a poller (no HTTP, no SigV4):

    queue = await queues.catalog.by_arn(arn)            # QueueRecord | None
    got = await queues.receive(queue, max_messages=10, visibility_timeout=30, wait_s=20)
    for m in got: ... m.message, m.receipt_handle
    await queues.delete(queue, [m.receipt_handle ...])  # delete by receipt handle
    await queues.change_visibility(queue, handle, 0)    # give one back now
    unsubscribe = queues.subscribe(queue.id, wake)      # `wake()` on every send

A receive claims messages atomically in the backend (on PostgreSQL with
FOR UPDATE SKIP LOCKED), so pollers on many nodes never hold the same message at once;
delivery is at least once (a message whose visibility lapses is received again)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lambent.clock import Clock
from lambent.errors import ServiceError
from lambent.sqs import attributes as attrs
from lambent.sqs import receipts
from lambent.sqs.backend import Dedup, QueueBackend
from lambent.sqs.catalog import QueueCatalog
from lambent.sqs.errors import ReceiptHandleIsInvalid, invalid_value
from lambent.sqs.model import Claim, Counts, QueueRecord, Redrive, StoredMessage, VisibilityResult
from lambent.sqs.moves import MoveTasks
from lambent.sqs.redrive import max_receives
from lambent.sqs.sending import SendContext, SendEntry, message_ids, prepare
from lambent.sqs.waiters import Waiters

log = logging.getLogger(__name__)
MAX_VISIBILITY_S = 43_200
EXPIRE_EVERY_S = 60.0
ATTEMPT_WINDOW_MS = 5 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Received:
    message: StoredMessage
    receipt_handle: str


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str
    md5_body: str
    md5_attributes: str
    md5_system: str
    sequence_number: str | None


class Queues:
    def __init__(self, backend: QueueBackend, clock: Clock, *, shared: bool = False) -> None:
        """`shared`: the backend is shared with other nodes (PostgreSQL)."""
        self.backend = backend
        self.clock = clock
        self.catalog = QueueCatalog(backend, clock, ttl_s=1.0 if shared else None)
        self.waiters = Waiters()
        backend.on_remote_send(self.waiters.wake)
        self.moves = MoveTasks(backend, clock, self.waiters.wake)
        # FIFO ReceiveRequestAttemptIds seen: (queue id, attempt) -> (until ms, result).
        self._attempts: dict[tuple[str, str], tuple[int, list[Received]]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def now_ms(self) -> int:
        return int(self.clock.time() * 1000)

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep(), name="sqs-retention")

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.moves.close()
        await self.backend.close()

    async def _sweep(self) -> None:
        """Messages past their retention go; so do expired deduplication ids."""
        while True:
            await self.clock.sleep(EXPIRE_EVERY_S)
            try:
                await self.backend.expire(self.now_ms())
            except Exception:
                log.exception("sqs: retention sweep failed")

    # -- sending -----------------------------------------------------------------------
    async def send(
        self, queue: QueueRecord, entries: Sequence[SendEntry], sender_id: str
    ) -> list[SendResult | ServiceError]:
        """Each entry's result, or the error that refused it (others are still sent)."""
        ctx = SendContext.of(queue, self.now_ms(), sender_id)
        prepared: list[object] = []
        for entry, message_id in zip(entries, message_ids(len(entries)), strict=True):
            try:
                prepared.append(prepare(ctx, entry, message_id))
            except ServiceError as err:
                prepared.append(err)
        good = [p for p in prepared if not isinstance(p, ServiceError)]
        dedup = Dedup(queue.attributes.get("DeduplicationScope") == "messageGroup")
        sent = await self.backend.send(queue.id, good, dedup if queue.fifo else None)  # type: ignore[arg-type]
        if sent:
            self.waiters.wake(queue.id)
        it = iter(zip(good, sent, strict=True))
        out: list[SendResult | ServiceError] = []
        for p in prepared:
            if isinstance(p, ServiceError):
                out.append(p)
                continue
            message, done = next(it)
            out.append(
                SendResult(
                    done.message_id,
                    message.md5_body,  # type: ignore[attr-defined]
                    message.md5_attributes,  # type: ignore[attr-defined]
                    message.md5_system,  # type: ignore[attr-defined]
                    f"{done.seq:020d}" if queue.fifo else None,
                )
            )
        return out

    # -- receiving ---------------------------------------------------------------------
    async def receive(
        self,
        queue: QueueRecord,
        *,
        max_messages: int = 1,
        visibility_timeout: int | None = None,
        wait_s: int | None = None,
        attempt_id: str | None = None,
    ) -> list[Received]:
        """Up to `max_messages`, hidden for `visibility_timeout` s (the queue's if None);
        waits up to `wait_s` s (the queue's ReceiveMessageWaitTimeSeconds if None) for one
        to arrive or become visible. On a FIFO queue, a retry with the same `attempt_id`
        (ReceiveRequestAttemptId) within 5 minutes gets the same messages and receipt
        handles while they are still in flight (remembered on this node)."""
        if queue.fifo and attempt_id:
            again = self._attempts.get((queue.id, attempt_id))
            now = self.now_ms()
            if (
                again is not None
                and again[0] > now
                and all(r.message.visible_at_ms > now for r in again[1])
            ):
                return again[1]
            got = await self.receive(
                queue,
                max_messages=max_messages,
                visibility_timeout=visibility_timeout,
                wait_s=wait_s,
            )
            self._remember_attempt((queue.id, attempt_id), now + ATTEMPT_WINDOW_MS, got)
            return got
        if visibility_timeout is None:
            visibility_timeout = attrs.int_attr(queue.attributes, "VisibilityTimeout")
        if wait_s is None:
            wait_s = attrs.int_attr(queue.attributes, "ReceiveMessageWaitTimeSeconds")
        redrive = await self._redrive(queue)
        deadline = self.clock.time() + wait_s
        while True:
            event = self.waiters.event(queue.id)
            now = self.now_ms()
            claimed = await self.backend.claim(
                Claim(
                    queue.id,
                    now,
                    max_messages,
                    now + visibility_timeout * 1000,
                    queue.fifo,
                    redrive,
                )
            )
            if claimed.messages:
                return [
                    Received(m, receipts.make(queue.id, m.seq, m.receipt)) for m in claimed.messages
                ]
            remaining = deadline - self.clock.time()
            if remaining <= 0:
                return []
            if claimed.next_visible_ms is not None:
                remaining = min(
                    remaining, max(0.0, claimed.next_visible_ms / 1000 - self.clock.time())
                )
            await self.waiters.wait(event, max(remaining, 0.001))

    async def _redrive(self, queue: QueueRecord) -> Redrive | None:
        policy = queue.attributes.get("RedrivePolicy")
        if not policy:
            return None
        count, dlq_arn = max_receives(policy)
        dlq = await self.catalog.by_arn(dlq_arn)
        if dlq is None:
            return None
        retention = attrs.int_attr(dlq.attributes, "MessageRetentionPeriod") * 1000
        return Redrive(count, dlq.id, retention)

    def _remember_attempt(self, key: tuple[str, str], until_ms: int, got: list[Received]) -> None:
        now = self.now_ms()
        for old in [k for k, v in self._attempts.items() if v[0] <= now]:
            del self._attempts[old]
        self._attempts[key] = (until_ms, got)

    def subscribe(self, queue_id: str, wake: Callable[[], None]) -> Callable[[], None]:
        """`wake()` whenever messages are sent to the queue (on any node of a cluster)."""
        return self.waiters.subscribe(queue_id, wake)

    # -- settling ----------------------------------------------------------------------
    def check_handle(self, queue: QueueRecord, handle: str) -> tuple[int, str]:
        queue_id, seq, token = receipts.parse(handle)
        if queue_id != queue.id:
            raise ReceiptHandleIsInvalid(
                f'The input receipt handle "{handle}" is not a valid receipt handle.'
            )
        return seq, token

    async def delete(self, queue: QueueRecord, handles: Sequence[str]) -> None:
        """Delete the messages these receipts hold; a stale receipt deletes nothing and is
        no error (AWS). A malformed one is ReceiptHandleIsInvalid (checked first)."""
        pairs = [self.check_handle(queue, h) for h in handles]
        await self.backend.delete_messages(queue.id, pairs)

    async def change_visibility(self, queue: QueueRecord, handle: str, timeout_s: int) -> None:
        if not 0 <= timeout_s <= MAX_VISIBILITY_S:
            raise invalid_value(
                "VisibilityTimeout", timeout_s, "Must be between 0 and 43200, if provided."
            )
        seq, token = self.check_handle(queue, handle)
        now = self.now_ms()
        (verdict,) = await self.backend.change_visibility(
            queue.id, [(seq, token, now + timeout_s * 1000)], now, MAX_VISIBILITY_S * 1000
        )
        if verdict == VisibilityResult.TOO_LONG:
            raise invalid_value(
                "VisibilityTimeout",
                timeout_s,
                f"Total VisibilityTimeout for the message is beyond the limit "
                f"[{MAX_VISIBILITY_S} seconds]",
            )
        if verdict != VisibilityResult.CHANGED:
            raise invalid_value(
                "ReceiptHandle",
                handle,
                "Message does not exist or is not available for visibility timeout change.",
            )
        if timeout_s == 0:
            self.waiters.wake(queue.id)

    async def counts(self, queue: QueueRecord) -> Counts:
        return await self.backend.counts(queue.id, self.now_ms())

    async def stats(self, limit: int = 1000) -> dict[str, dict[str, int]]:
        """Messages by state per queue (`ACCOUNT/NAME`), for `/_lambent/stats`: the first
        `limit` queues in account and name order."""
        counts = await self.backend.all_counts(self.now_ms())
        out: dict[str, dict[str, int]] = {}
        for queue in await self.backend.list_queues(None, "", "", limit):
            found = counts.get(queue.id, Counts(0, 0, 0))
            out[f"{queue.account}/{queue.name}"] = {
                "visible": found.visible,
                "in_flight": found.in_flight,
                "delayed": found.delayed,
            }
        return out
