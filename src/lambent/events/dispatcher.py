"""The dispatcher: claims accepted events from the outbox, matches them against their bus's
rules, and hands each to every target of every matching rule, with the target's
RetryPolicy (MaximumRetryAttempts, default 185; MaximumEventAgeInSeconds, default 86,400)
and DeadLetterConfig (an SQS queue).

A retryable failure is tried again with exponential backoff (`retry_base_s` doubling, at
most `retry_max_s`); a target that does not exist or does not allow EventBridge is not
retried (as AWS). What cannot be delivered goes to the target's dead-letter queue with
AWS's message attributes (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS), or is dropped and counted.

It wakes on a local acceptance at once and looks at the outbox every `poll_s` otherwise
(events accepted on other nodes, retries coming due, lapsed claims of a dead node).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from lambent.clock import Clock
from lambent.events.catalog import EventCatalog, Rule
from lambent.events.outbox import Entry, Outbox
from lambent.events.targets import DeliveryFailed, TargetSender
from lambent.events.transform import target_input

log = logging.getLogger(__name__)

DEFAULT_RETRIES = 185
DEFAULT_MAX_AGE_S = 86_400


@dataclass
class DispatchStats:
    delivered: int = 0
    retried: int = 0
    dead_lettered: int = 0
    dead_letter_errors: int = 0
    dropped: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Dispatcher:
    outbox: Outbox
    catalog: EventCatalog
    sender: TargetSender
    clock: Clock
    lease_s: float = 60.0
    poll_s: float = 1.0
    retry_base_s: float = 1.0
    retry_max_s: float = 300.0
    batch: int = 64
    stats: DispatchStats = field(default_factory=DispatchStats)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        freed = await self.outbox.recover()
        if freed:
            log.info("events: %d events whose dispatch was cut off are dispatched again", freed)
        self._task = asyncio.create_task(self._run(), name="events-dispatcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                earliest = await self.run_once()
            except Exception:
                log.exception("events: a dispatch round failed")
                earliest = self.clock.time() + self.poll_s
            wait = min(max(earliest - self.clock.time(), 0.0), self.poll_s)
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)

    async def run_once(self) -> float:
        """One round: claim a batch and work it; when the next round is due."""
        now = self.clock.time()
        entries, earliest = await self.outbox.claim(now, self.lease_s, self.batch)
        await asyncio.gather(*(self._work(e) for e in entries))
        if entries:
            await self.outbox.settle(entries, self.clock.time())
        return now if entries else earliest

    async def _work(self, entry: Entry) -> None:
        doc = entry.doc
        now = self.clock.time()
        event: dict[str, Any] = doc["event"]
        pending = entry.pending
        if pending is None:
            rules = await self.catalog.matching(doc["account"], doc["bus"], event)
            pending = [
                {"rule": r.name, "target": t["Id"], "attempts": 0, "due": now}
                for r in rules
                for t in r.targets
            ]
        left: list[dict[str, Any]] = []
        for item in pending:
            if item["due"] > now:
                left.append(item)
                continue
            kept = await self._deliver(doc, event, item, now)
            if kept is not None:
                left.append(kept)
        entry.doc["pending"] = left  # settled with the batch (outbox.settle)

    async def _deliver(
        self, doc: dict[str, Any], event: dict[str, Any], item: dict[str, Any], now: float
    ) -> dict[str, Any] | None:
        """Deliver one (rule, target); the item again if it is to be retried."""
        rule = await self.catalog.find_rule(doc["account"], doc["bus"], item["rule"])
        target = rule.target(item["target"]) if rule is not None else None
        if rule is None or target is None:
            return None  # removed since the event matched: nothing to deliver to
        try:
            body = target_input(target, event, rule.arn, rule.name)
            await self.sender.send(target, body, rule, event)
        except DeliveryFailed as failure:
            return await self._failed(doc, event, item, rule, target, failure, now)
        self.stats.delivered += 1
        return None

    async def _failed(
        self,
        doc: dict[str, Any],
        event: dict[str, Any],
        item: dict[str, Any],
        rule: Rule,
        target: dict[str, Any],
        failure: DeliveryFailed,
        now: float,
    ) -> dict[str, Any] | None:
        attempts = item["attempts"] + 1
        policy = target.get("RetryPolicy") or {}
        retries = int(policy.get("MaximumRetryAttempts", DEFAULT_RETRIES))
        max_age = float(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S))
        delay = min(self.retry_base_s * 2 ** (attempts - 1), self.retry_max_s)
        aged = now + delay - doc["accepted"] >= max_age
        if failure.retry and attempts <= retries and not aged:
            self.stats.retried += 1
            return {**item, "attempts": attempts, "due": now + delay}
        condition = "MaximumEventAgeExhausted" if aged else "MaximumRetryAttemptsExhausted"
        await self._dead_letter(event, rule, target, failure, attempts - 1, condition)
        return None

    async def _dead_letter(
        self,
        event: dict[str, Any],
        rule: Rule,
        target: dict[str, Any],
        failure: DeliveryFailed,
        retries: int,
        condition: str,
    ) -> None:
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq:
            self.stats.dropped += 1
            log.warning("events: %s to %s dropped: %s", rule.arn, target["Arn"], failure.message)
            return
        values = {
            "RULE_ARN": rule.arn,
            "TARGET_ARN": str(target["Arn"]),
            "ERROR_CODE": failure.code,
            "ERROR_MESSAGE": failure.message,
            "EXHAUSTED_RETRY_CONDITION": condition,
            "RETRY_ATTEMPTS": str(retries),
        }
        attributes = {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}
        try:
            await self.sender.sqs(str(dlq), json.dumps(event), rule.arn, None, attributes)
        except DeliveryFailed as exc:
            self.stats.dead_letter_errors += 1
            log.warning("events: dead-letter queue %s refused: %s", dlq, exc.message)
            return
        self.stats.dead_lettered += 1
