"""The aws CLI (v1) against Lambent's SQS: create, send, receive, delete, DLQ attributes."""

from __future__ import annotations

import json

from tests.integration.test_s3_cli import aws
from tests.support import ServerProcess


def test_cli_queue_flow(server: ServerProcess) -> None:
    url = json.loads(aws(server, "sqs", "create-queue", "--queue-name", "cli-q"))["QueueUrl"]
    assert url.endswith("/cli-q")
    assert url in json.loads(aws(server, "sqs", "list-queues"))["QueueUrls"]
    sent = json.loads(
        aws(
            server,
            "sqs",
            "send-message",
            "--queue-url",
            url,
            "--message-body",
            "from the cli",
            "--message-attributes",
            '{"k": {"DataType": "String", "StringValue": "v"}}',
        )
    )
    assert sent["MessageId"] and sent["MD5OfMessageAttributes"]
    got = json.loads(
        aws(
            server,
            "sqs",
            "receive-message",
            "--queue-url",
            url,
            "--message-attribute-names",
            "All",
            "--wait-time-seconds",
            "5",
        )
    )["Messages"]
    assert got[0]["Body"] == "from the cli"
    assert got[0]["MessageAttributes"]["k"]["StringValue"] == "v"
    aws(
        server,
        "sqs",
        "delete-message",
        "--queue-url",
        url,
        "--receipt-handle",
        got[0]["ReceiptHandle"],
    )
    attrs = json.loads(
        aws(server, "sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "All")
    )["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    aws(
        server,
        "sqs",
        "set-queue-attributes",
        "--queue-url",
        url,
        "--attributes",
        "VisibilityTimeout=60",
    )
    attrs = json.loads(
        aws(
            server,
            "sqs",
            "get-queue-attributes",
            "--queue-url",
            url,
            "--attribute-names",
            "VisibilityTimeout",
        )
    )["Attributes"]
    assert attrs == {"VisibilityTimeout": "60"}
    aws(server, "sqs", "delete-queue", "--queue-url", url)
