"""SQS operations on the wire: thin, over the queue service (sqs/service.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.sqs import batches, shaping
from lambent.errors import AccessDenied, ServiceError
from lambent.sqs import attributes as attrs
from lambent.sqs import names, permissions
from lambent.sqs.access import may_access
from lambent.sqs.errors import (
    InvalidParameterValue,
    MissingParameter,
    QueueDoesNotExist,
    SqsResourceNotFound,
    invalid_value,
)
from lambent.sqs.model import QueueRecord
from lambent.sqs.sending import SendEntry
from lambent.sqs.service import Queues, SendResult

MAX_LIST = 1000


class SqsHandlers(ServiceHandlers):
    service = "sqs"
    # Attribute names outside the model's enums are SQS's own InvalidAttributeName.
    checks_itself: ClassVar[Mapping[str, frozenset[str]]] = {
        "CreateQueue": frozenset({"Attributes"}),
        "SetQueueAttributes": frozenset({"Attributes"}),
        "GetQueueAttributes": frozenset({"AttributeNames"}),
    }

    def __init__(self, queues: Queues, endpoint: str) -> None:
        self._queues = queues
        self._catalog = queues.catalog
        self._endpoint = endpoint

    # -- helpers -----------------------------------------------------------------------
    def _base(self, ctx: RequestContext) -> str:
        host = ctx.request.headers.get("host")
        return f"http://{host}" if host else self._endpoint

    def _url(self, ctx: RequestContext, queue: QueueRecord) -> str:
        return names.queue_url(self._base(ctx), queue.account, queue.name)

    async def _queue(self, ctx: RequestContext, params: dict[str, Any]) -> QueueRecord:
        account, name = names.parse_url(str(params["QueueUrl"]))
        queue = await self._catalog.find(account, name)
        if queue is None:
            raise QueueDoesNotExist()
        self._allowed(ctx, queue)
        return queue

    def _allowed(self, ctx: RequestContext, queue: QueueRecord) -> None:
        caller = ctx.caller
        if not may_access(queue, ctx.operation, caller.account_id, caller.principal_arn):
            raise AccessDenied(
                f"User: {caller.principal_arn} is not authorized to perform: "
                f"sqs:{ctx.operation} on resource: {queue.arn} because no resource-based "
                "policy allows the sqs:" + ctx.operation + " action"
            )

    # -- queues ------------------------------------------------------------------------
    async def create_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = await self._catalog.create(
            ctx.account_id,
            ctx.region,
            params["QueueName"],
            params.get("Attributes") or {},
            params.get("tags"),
        )
        return {"QueueUrl": self._url(ctx, queue)}

    async def get_queue_url(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account = params.get("QueueOwnerAWSAccountId") or ctx.account_id
        queue = await self._catalog.find(account, params["QueueName"])
        if queue is None:
            raise QueueDoesNotExist()
        return {"QueueUrl": self._url(ctx, queue)}

    async def list_queues(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("MaxResults")
        if limit is not None and not 1 <= limit <= MAX_LIST:
            raise invalid_value("MaxResults", limit, "Must be between 1 and 1000, if provided.")
        after = str(params.get("NextToken") or "")
        page = await self._catalog.list_page(
            ctx.account_id, params.get("QueueNamePrefix") or "", after, (limit or MAX_LIST) + 1
        )
        out: dict[str, Any] = {}
        shown = page[: limit or MAX_LIST]
        if shown:
            out["QueueUrls"] = [self._url(ctx, q) for q in shown]
        if limit is not None and len(page) > limit:
            out["NextToken"] = shown[-1].name
        return out

    async def delete_queue(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._catalog.delete(await self._queue(ctx, params))

    async def get_queue_attributes(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        queue = await self._queue(ctx, params)
        wanted = attrs.wanted(params.get("AttributeNames"))
        if not wanted:
            return {}
        values = dict(queue.attributes)
        if wanted & {
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        }:
            counts = await self._queues.counts(queue)
            values["ApproximateNumberOfMessages"] = str(counts.visible)
            values["ApproximateNumberOfMessagesNotVisible"] = str(counts.in_flight)
            values["ApproximateNumberOfMessagesDelayed"] = str(counts.delayed)
        values["QueueArn"] = queue.arn
        values["CreatedTimestamp"] = str(queue.created_ms // 1000)
        values["LastModifiedTimestamp"] = str(queue.modified_ms // 1000)
        return {"Attributes": {k: v for k, v in values.items() if k in wanted}}

    async def set_queue_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        if params.get("Attributes") is None:  # required; the model's check is skipped
            raise MissingParameter("The request must contain the parameter Attributes.")
        queue = await self._queue(ctx, params)
        await self._catalog.set_attributes(queue, params["Attributes"])

    async def purge_queue(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._catalog.purge(await self._queue(ctx, params))

    async def tag_queue(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._catalog.tag(await self._queue(ctx, params), params["Tags"])

    async def untag_queue(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._catalog.untag(await self._queue(ctx, params), params["TagKeys"])

    async def list_queue_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = await self._queue(ctx, params)
        return {"Tags": dict(queue.tags)} if queue.tags else {}

    async def list_dead_letter_source_queues(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        queue = await self._queue(ctx, params)
        sources = await self._catalog.dead_letter_sources(queue)
        after = str(params.get("NextToken") or "")
        limit = params.get("MaxResults") or MAX_LIST
        page = [q for q in sources if q.name > after]
        out: dict[str, Any] = {"queueUrls": [self._url(ctx, q) for q in page[:limit]]}
        if params.get("MaxResults") and len(page) > limit:
            out["NextToken"] = page[limit - 1].name
        return out

    async def add_permission(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        queue = await self._queue(ctx, params)
        policy = permissions.added(
            queue, params["Label"], params["AWSAccountIds"], params["Actions"]
        )
        await self._catalog.replace_policy(queue, policy)

    async def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        queue = await self._queue(ctx, params)
        await self._catalog.replace_policy(queue, permissions.removed(queue, params["Label"]))

    # -- message move tasks ------------------------------------------------------------
    async def _queue_by_arn(self, ctx: RequestContext, arn: str, member: str) -> QueueRecord:
        queue = await self._catalog.by_arn(arn)
        if queue is None:
            raise SqsResourceNotFound(
                f"The resource that you specified for the {member} parameter doesn't exist."
            )
        self._allowed(ctx, queue)
        return queue

    async def start_message_move_task(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        source = await self._queue_by_arn(ctx, params["SourceArn"], "SourceArn")
        sources = await self._catalog.dead_letter_sources(source)
        if not sources:
            raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        if params.get("DestinationArn"):
            destination = await self._queue_by_arn(ctx, params["DestinationArn"], "DestinationArn")
        elif len(sources) == 1:
            destination = sources[0]
        else:  # Lambent does not record each message's source queue (docs/SPECIFICATION.md)
            raise InvalidParameterValue(
                "DestinationArn is required: the dead-letter queue has several source queues."
            )
        counts = await self._queues.counts(source)
        task = await self._queues.moves.start(
            source, destination, params.get("MaxNumberOfMessagesPerSecond"), counts.visible
        )
        return {"TaskHandle": task.handle}

    async def list_message_move_tasks(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        source = await self._queue_by_arn(ctx, params["SourceArn"], "SourceArn")
        limit = params.get("MaxResults", 1)
        if not 1 <= limit <= 10:
            raise invalid_value("MaxResults", limit, "Must be between 1 and 10, if provided.")
        return {"Results": self._queues.moves.list(source.arn, limit)}

    async def cancel_message_move_task(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        moved = await self._queues.moves.cancel(params["TaskHandle"])
        return {"ApproximateNumberOfMessagesMoved": moved}

    # -- messages ----------------------------------------------------------------------
    async def send_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = await self._queue(ctx, params)
        (result,) = await self._queues.send(queue, [_entry(params)], ctx.caller.user_id)
        if isinstance(result, ServiceError):
            raise result
        return _sent(result)

    async def send_message_batch(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        queue = await self._queue(ctx, params)
        entries = batches.check(params.get("Entries"), "SendMessageBatchRequestEntry")
        batches.check_size(entries)
        results = await self._queues.send(queue, [_entry(e) for e in entries], ctx.caller.user_id)
        ok: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for entry, result in zip(entries, results, strict=True):
            if isinstance(result, ServiceError):
                failed.append(batches.failure(entry["Id"], result))
            else:
                ok.append({"Id": entry["Id"], **_sent(result)})
        return {"Successful": ok, "Failed": failed}

    async def receive_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = await self._queue(ctx, params)
        count = params.get("MaxNumberOfMessages", 1)
        if not 1 <= count <= 10:
            raise invalid_value(
                "MaxNumberOfMessages", count, "Must be between 1 and 10, if provided."
            )
        wait = params.get("WaitTimeSeconds")
        if wait is not None and not 0 <= wait <= 20:
            raise invalid_value("WaitTimeSeconds", wait, "Must be >= 0 and <= 20, if provided.")
        visibility = params.get("VisibilityTimeout")
        if visibility is not None and not 0 <= visibility <= 43_200:
            raise invalid_value(
                "VisibilityTimeout", visibility, "Must be >= 0 and <= 43200, if provided."
            )
        got = await self._queues.receive(
            queue,
            max_messages=count,
            visibility_timeout=visibility,
            wait_s=wait,
            attempt_id=params.get("ReceiveRequestAttemptId"),
        )
        if not got:
            return {}
        system = shaping.system_wanted(
            params.get("AttributeNames"), params.get("MessageSystemAttributeNames")
        )
        names_wanted = params.get("MessageAttributeNames")
        return {"Messages": [shaping.message(m, queue.fifo, system, names_wanted) for m in got]}

    async def delete_message(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        queue = await self._queue(ctx, params)
        await self._queues.delete(queue, [params["ReceiptHandle"]])

    async def delete_message_batch(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        queue = await self._queue(ctx, params)
        entries = batches.check(params.get("Entries"), "DeleteMessageBatchRequestEntry")
        ok: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        handles: list[str] = []
        for entry in entries:
            try:
                self._queues.check_handle(queue, entry["ReceiptHandle"])
            except ServiceError as err:
                failed.append(batches.failure(entry["Id"], err))
                continue
            handles.append(entry["ReceiptHandle"])
            ok.append({"Id": entry["Id"]})
        await self._queues.delete(queue, handles)
        return {"Successful": ok, "Failed": failed}

    async def change_message_visibility(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        queue = await self._queue(ctx, params)
        await self._queues.change_visibility(
            queue, params["ReceiptHandle"], params["VisibilityTimeout"]
        )

    async def change_message_visibility_batch(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        queue = await self._queue(ctx, params)
        entries = batches.check(params.get("Entries"), "ChangeMessageVisibilityBatchRequestEntry")
        ok: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for entry in entries:
            try:
                await self._queues.change_visibility(
                    queue, entry["ReceiptHandle"], entry.get("VisibilityTimeout", 0)
                )
            except ServiceError as err:
                failed.append(batches.failure(entry["Id"], err))
            else:
                ok.append({"Id": entry["Id"]})
        return {"Successful": ok, "Failed": failed}


def _entry(params: dict[str, Any]) -> SendEntry:
    return SendEntry(
        body=params.get("MessageBody"),
        delay_seconds=params.get("DelaySeconds"),
        attributes=params.get("MessageAttributes"),
        system_attributes=params.get("MessageSystemAttributes"),
        group_id=params.get("MessageGroupId"),
        dedup_id=params.get("MessageDeduplicationId"),
    )


def _sent(result: SendResult) -> dict[str, Any]:
    out: dict[str, Any] = {"MessageId": result.message_id, "MD5OfMessageBody": result.md5_body}
    if result.md5_attributes:
        out["MD5OfMessageAttributes"] = result.md5_attributes
    if result.md5_system:
        out["MD5OfMessageSystemAttributes"] = result.md5_system
    if result.sequence_number is not None:
        out["SequenceNumber"] = result.sequence_number
    return out
