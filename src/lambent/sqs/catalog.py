"""Queues: create, find, list, delete, attributes, tags, purge.

Records are cached by (account, name): on SQLite this server is the only writer, so the
cache is exact; on PostgreSQL another node may change or delete a queue, so an entry is
trusted for `ttl_s` (a second) and a send into a queue deleted elsewhere still fails
(the backend checks the queue in the send's transaction)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

from lambent.clock import Clock
from lambent.sqs import attributes as attrs
from lambent.sqs import names
from lambent.sqs.backend import QueueBackend
from lambent.sqs.errors import (
    PurgeQueueInProgress,
    QueueDeletedRecently,
    QueueDoesNotExist,
    QueueNameExists,
)
from lambent.sqs.model import QueueRecord
from lambent.sqs.redrive import check_redrive_allow, redrive_target

PURGE_INTERVAL_MS = 60_000
RECREATE_AFTER_MS = 60_000
MAX_TAGS = 50


class QueueCatalog:
    def __init__(self, backend: QueueBackend, clock: Clock, *, ttl_s: float | None) -> None:
        self._backend = backend
        self._clock = clock
        self._ttl_ms = None if ttl_s is None else int(ttl_s * 1000)
        self._cache: dict[tuple[str, str], tuple[QueueRecord, int]] = {}

    def _now(self) -> int:
        return int(self._clock.time() * 1000)

    async def find(self, account: str, name: str) -> QueueRecord | None:
        now = self._now()
        hit = self._cache.get((account, name))
        if hit is not None and (self._ttl_ms is None or now - hit[1] < self._ttl_ms):
            return hit[0]
        record = await self._backend.get_queue(account, name)
        if record is None:
            self._cache.pop((account, name), None)
        else:
            self._cache[(account, name)] = (record, now)
        return record

    async def get(self, account: str, name: str) -> QueueRecord:
        record = await self.find(account, name)
        if record is None:
            raise QueueDoesNotExist()
        return record

    async def by_arn(self, arn: str) -> QueueRecord | None:
        parsed = names.parse_arn(arn)
        if parsed is None:
            return None
        return await self.find(parsed[1], parsed[2])

    async def create(
        self,
        account: str,
        region: str,
        name: str,
        given: Mapping[str, str],
        tags: Mapping[str, str] | None = None,
    ) -> QueueRecord:
        fifo = str(given.get("FifoQueue", "")).lower() == "true" or name.endswith(".fifo")
        if name.endswith(".fifo") and str(given.get("FifoQueue", "")).lower() != "true":
            names.check_name(name, False)  # a .fifo name without FifoQueue=true
        names.check_name(name, fifo)
        settable = attrs.settable(given, fifo=fifo, creating=True)
        check_high_throughput(settable)
        await self._check_references(account, region, name, settable, fifo)
        existing = await self._backend.get_queue(account, name)
        if existing is None:
            deleted = await self._backend.deleted_at(account, name)
            if deleted is not None and self._now() - deleted < RECREATE_AFTER_MS:
                raise QueueDeletedRecently(
                    "You must wait 60 seconds after deleting a queue before you can create "
                    "another with the same name."
                )
        now = self._now()
        record = QueueRecord(
            id=uuid.uuid4().hex,
            account=account,
            region=region,
            name=name,
            created_ms=now,
            modified_ms=now,
            attributes={**attrs.defaults(fifo), **settable},
            tags=dict(tags or {}),
        )
        stored = await self._backend.create_queue(record)
        if stored.id != record.id:
            differs = attrs.first_difference(stored.attributes, settable)
            if differs is not None:
                raise QueueNameExists(
                    "A queue already exists with the same name and a different value for "
                    f"attribute {differs}"
                )
        self._cache[(account, name)] = (stored, now)
        return stored

    async def _check_references(
        self, account: str, region: str, name: str, settable: dict[str, str], fifo: bool
    ) -> None:
        """RedrivePolicy names an existing queue of the same type that allows it;
        RedriveAllowPolicy is well-formed. Both normalized as AWS returns them."""
        if settable.get("RedrivePolicy"):
            source_arn = names.arn(region, account, name)
            policy, dlq_arn = redrive_target(settable["RedrivePolicy"])
            dlq = await self.by_arn(dlq_arn)
            reason = None
            if dlq is None or dlq.account != account:
                reason = "Dead-letter target does not exist."
            elif dlq.fifo != fifo:
                reason = "Dead-letter queue type must match source queue type."
            elif not allows_source(dlq, source_arn):
                reason = "Dead-letter target does not allow this queue as a source."
            if reason is not None:
                from lambent.sqs.errors import invalid_value

                raise invalid_value("RedrivePolicy", settable["RedrivePolicy"], reason)
            settable["RedrivePolicy"] = policy
        if settable.get("RedriveAllowPolicy"):
            settable["RedriveAllowPolicy"] = check_redrive_allow(settable["RedriveAllowPolicy"])

    async def set_attributes(self, record: QueueRecord, given: Mapping[str, str]) -> None:
        settable = attrs.settable(given, fifo=record.fifo, creating=False)
        merged = {**record.attributes, **settable}
        check_high_throughput(merged)
        await self._check_references(
            record.account, record.region, record.name, settable, record.fifo
        )
        merged = {**record.attributes, **settable}
        for key in ("Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId"):
            if merged.get(key) == "":
                merged.pop(key)
        await self._replace(record, attributes=merged, modified_ms=self._now())

    async def replace_policy(self, record: QueueRecord, policy: str) -> None:
        """AddPermission/RemovePermission's result ("" removes the Policy attribute)."""
        merged = {k: v for k, v in record.attributes.items() if k != "Policy"}
        if policy:
            merged["Policy"] = policy
        await self._replace(record, attributes=merged, modified_ms=self._now())

    async def _replace(self, record: QueueRecord, **changes: object) -> QueueRecord:
        from dataclasses import replace

        updated = replace(record, **changes)  # type: ignore[arg-type]
        if not await self._backend.update_queue(updated):
            self._cache.pop((record.account, record.name), None)
            raise QueueDoesNotExist()
        self._cache[(record.account, record.name)] = (updated, self._now())
        return updated

    async def delete(self, record: QueueRecord) -> None:
        self._cache.pop((record.account, record.name), None)
        await self._backend.delete_queue(record.id, self._now())

    async def purge(self, record: QueueRecord) -> None:
        fresh = await self._backend.get_queue_by_id(record.id)
        if fresh is None:
            raise QueueDoesNotExist()
        now = self._now()
        if fresh.last_purge_ms and now - fresh.last_purge_ms < PURGE_INTERVAL_MS:
            raise PurgeQueueInProgress(
                f"Only one PurgeQueue operation on {record.name} is allowed every 60 seconds."
            )
        await self._replace(fresh, last_purge_ms=now)
        await self._backend.purge(record.id)

    async def list_page(
        self, account: str, prefix: str, after: str, limit: int
    ) -> list[QueueRecord]:
        return await self._backend.list_queues(account, prefix, after, limit)

    async def tag(self, record: QueueRecord, tags: Mapping[str, str]) -> None:
        merged = {**record.tags, **tags}
        if len(merged) > MAX_TAGS:
            from lambent.sqs.errors import InvalidParameterValue

            raise InvalidParameterValue(f"Too many tags added for queue {record.name}.")
        await self._replace(record, tags=merged)

    async def untag(self, record: QueueRecord, keys: list[str]) -> None:
        await self._replace(record, tags={k: v for k, v in record.tags.items() if k not in keys})

    async def dead_letter_sources(self, record: QueueRecord) -> list[QueueRecord]:
        found: list[QueueRecord] = []
        after = ""
        while True:
            page = await self._backend.list_queues(record.account, "", after, 1000)
            for queue in page:
                policy = queue.attributes.get("RedrivePolicy")
                if policy and json.loads(policy).get("deadLetterTargetArn") == record.arn:
                    found.append(queue)
            if len(page) < 1000:
                return found
            after = page[-1].name


def allows_source(dlq: QueueRecord, source_arn: str) -> bool:
    text = dlq.attributes.get("RedriveAllowPolicy")
    if not text:
        return True
    policy = json.loads(text)
    permission = policy.get("redrivePermission")
    if permission == "denyAll":
        return False
    if permission == "byQueue":
        return source_arn in policy.get("sourceQueueArns", [])
    return True


def check_high_throughput(merged: Mapping[str, str]) -> None:
    """FifoThroughputLimit=perMessageGroupId needs DeduplicationScope=messageGroup (AWS)."""
    if (
        merged.get("FifoThroughputLimit") == "perMessageGroupId"
        and merged.get("DeduplicationScope", "queue") != "messageGroup"
    ):
        from lambent.sqs.errors import InvalidAttributeValue

        raise InvalidAttributeValue(
            "Invalid value for the parameter FifoThroughputLimit. Reason: "
            "perMessageGroupId is supported only with DeduplicationScope messageGroup."
        )
