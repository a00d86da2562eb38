"""What an operator sees of SQS: `/_lambent/stats` and `lambent queues`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import ServerProcess, http_get

LAMBENT = str(Path(sys.executable).parent / "lambent")


def test_stats_and_cli_show_messages_by_state(server: ServerProcess) -> None:
    sqs = server.client("sqs")
    dlq = sqs.create_queue(QueueName="ops-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="ops-q",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})
        },
    )["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")
    sqs.send_message(QueueUrl=url, MessageBody="c", DelaySeconds=600)
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)
    status, body = http_get(f"{server.endpoint}/_lambent/stats")
    assert status == 200
    account = server.client("sts").get_caller_identity()["Account"]
    assert json.loads(body)["sqs"][f"{account}/ops-q"] == {
        "visible": 1,
        "in_flight": 1,
        "delayed": 1,
    }
    key, secret = server.credentials()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_REGION": "us-east-1",
        "LAMBENT_ENDPOINT": server.endpoint,
    }
    done = subprocess.run(
        [LAMBENT, "queues", "--prefix", "ops-", "--endpoint-url", server.endpoint],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == [
        "NAME",
        "TYPE",
        "VISIBLE",
        "IN",
        "FLIGHT",
        "DELAYED",
        "DEAD-LETTER",
        "QUEUE",
    ]
    assert lines[2].split() == ["ops-q", "standard", "1", "1", "1", "ops-dlq", "(after", "3)"]
