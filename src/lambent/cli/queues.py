"""`lambent queues`: the account's SQS queues as a table, messages by state.

Reads what any SQS client can (ListQueues, every page; GetQueueAttributes per queue), so
it shows exactly what the API says: visible, in flight and delayed messages, the queue's
type, and its dead-letter queue if it has one."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from lambent.cli.client import AwsClient
from lambent.cli.listing import table_of

COLUMNS = ("NAME", "TYPE", "VISIBLE", "IN FLIGHT", "DELAYED", "DEAD-LETTER QUEUE")


def queue_urls(client: AwsClient, prefix: str) -> Iterator[str]:
    token: str | None = None
    while True:
        doc: dict[str, Any] = {"MaxResults": 1000, "QueueNamePrefix": prefix}
        if token:
            doc["NextToken"] = token
        page = client.sqs("ListQueues", doc)
        yield from page.get("QueueUrls", [])
        token = page.get("NextToken")
        if not token:
            return


def row(url: str, attrs: Mapping[str, str]) -> tuple[str, ...]:
    dlq = "-"
    if attrs.get("RedrivePolicy"):
        policy = json.loads(attrs["RedrivePolicy"])
        dlq = (
            f"{policy['deadLetterTargetArn'].rsplit(':', 1)[1]} (after {policy['maxReceiveCount']})"
        )
    return (
        url.rsplit("/", 1)[1],
        "fifo" if attrs.get("FifoQueue") == "true" else "standard",
        attrs.get("ApproximateNumberOfMessages", "0"),
        attrs.get("ApproximateNumberOfMessagesNotVisible", "0"),
        attrs.get("ApproximateNumberOfMessagesDelayed", "0"),
        dlq,
    )


def list_command(client: AwsClient, prefix: str, stdout: TextIO, stderr: TextIO) -> int:
    rows = []
    for url in queue_urls(client, prefix):
        attrs = client.sqs("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})
        rows.append(row(url, attrs.get("Attributes", {})))
    if not rows:
        stderr.write(f"no queues in {client.config.region}\n")
        return 0
    stdout.write("\n".join(table_of(COLUMNS, rows)) + "\n")
    stdout.flush()
    return 0
