"""AWS's checks on an SQS mapping that need the queue itself, and on FilterCriteria.

Wording: AWS's where it is known ("Maximum batch window in seconds must be greater than 0
if maximum batch size is greater than 10", "Batching window is not supported for FIFO
queues", the NonExistentQueue and ReceiveMessage-permission messages Lambda relays, and
"Invalid filter pattern definition."); BatchSize over 10 on FIFO is Lambent's wording (no
published AWS text was found). All are InvalidParameterValueException.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from lambent.errors import InvalidParameterValue
from lambent.event_patterns import PatternError, compile_pattern
from lambent.sqs.access import may_access
from lambent.sqs.model import QueueRecord

QueueLookup = Callable[[str], Awaitable[QueueRecord | None]]

NO_QUEUE = (
    "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService."
    "NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl "
    "version."
)
NO_PERMISSION = (
    "The provided execution role does not have permissions to call ReceiveMessage on SQS"
)
WINDOW_ON_FIFO = "Batching window is not supported for FIFO queues"
FIFO_BATCH = "BatchSize must be between 1 and 10 for FIFO queues"
WINDOW_NEEDED = (
    "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater "
    "than 10"
)
BAD_FILTER = "Invalid filter pattern definition."


def check_filters(criteria: dict[str, Any] | None) -> None:
    for item in (criteria or {}).get("Filters") or []:
        pattern = item.get("Pattern")
        if pattern is None:
            continue
        try:
            compile_pattern(pattern, dialect="esm")
        except PatternError as exc:
            raise InvalidParameterValue(BAD_FILTER) from exc


def check_batching(settings: dict[str, Any], fifo: bool) -> None:
    """`settings`: the mapping's BatchSize and MaximumBatchingWindowInSeconds as they will
    be (the caller's over the stored ones)."""
    size = int(settings.get("BatchSize") or 10)
    window = int(settings.get("MaximumBatchingWindowInSeconds") or 0)
    if fifo and window > 0:
        raise InvalidParameterValue(WINDOW_ON_FIFO)
    if fifo and size > 10:
        raise InvalidParameterValue(FIFO_BATCH)
    if size > 10 and window == 0:
        raise InvalidParameterValue(WINDOW_NEEDED)


async def queue_for(find: QueueLookup, arn: str, account: str, principal_arn: str) -> QueueRecord:
    """The queue a mapping reads; AWS's errors for a missing one and for another account's
    queue whose policy does not let this account's role receive from it."""
    queue = await find(arn)
    if queue is None:
        raise InvalidParameterValue(NO_QUEUE)
    if not may_access(queue, "ReceiveMessage", account, principal_arn):
        raise InvalidParameterValue(NO_PERMISSION)
    return queue
