"""S3 event notifications against a real `lambent serve`: configurations validated as S3
validates them, a PUT reaching a function as AWS's event 2.1 (read back through the Logs
API), and notifications surviving a SIGKILL between the write and the delivery (the
outbox row is written in the object write's transaction)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_sns_api import received, sink
from tests.support import ServerProcess, start_server

BOUND_S = 120.0  # against hangs only


def wait_for(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def allow_s3(server: ServerProcess, name: str, bucket: str) -> None:
    server.client("lambda").add_permission(
        FunctionName=name,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
    )


def s3_queue(server: ServerProcess, name: str, bucket: str) -> tuple[str, str]:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    stmt = {
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": arn,
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}},
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [stmt]})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    return url, arn


def lambda_config(arn: str, prefix: str = "", suffix: str = "") -> dict[str, Any]:
    rules = [{"Name": "prefix", "Value": prefix}, {"Name": "suffix", "Value": suffix}]
    return {
        "LambdaFunctionArn": arn,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": rules}},
    }


def test_put_reaches_the_function_as_aws_event(server: ServerProcess) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="notify-put")
    fn = sink(server, "s3-sink")
    with pytest.raises(ClientError) as err:  # no permission for s3.amazonaws.com yet
        s3.put_bucket_notification_configuration(
            Bucket="notify-put",
            NotificationConfiguration={"LambdaFunctionConfigurations": [lambda_config(fn)]},
        )
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    assert "Unable to validate the following destination configurations" in str(err.value)
    allow_s3(server, "s3-sink", "notify-put")
    with pytest.raises(ClientError) as err:  # two configurations, overlapping prefixes
        s3.put_bucket_notification_configuration(
            Bucket="notify-put",
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    lambda_config(fn, "in/"),
                    lambda_config(fn, "in/sub/"),
                ]
            },
        )
    assert "Configurations overlap" in err.value.response["Error"]["Message"]
    s3.put_bucket_notification_configuration(
        Bucket="notify-put",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{**lambda_config(fn, "in/", ".txt"), "Id": "c1"}]
        },
    )
    got = s3.get_bucket_notification_configuration(Bucket="notify-put")
    assert got["LambdaFunctionConfigurations"][0]["Id"] == "c1"
    s3.put_object(Bucket="notify-put", Key="out/skip.txt", Body=b"no")
    s3.put_object(Bucket="notify-put", Key="in/a b=c.txt", Body=b"hello")
    events = wait_for(lambda: received(server, "s3-sink"), "the function's event")
    record = events[0]["Records"][0]
    assert record["eventVersion"] == "2.1" and record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["configurationId"] == "c1"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::notify-put"
    obj = record["s3"]["object"]
    assert obj["key"] == "in/a+b%3Dc.txt" and obj["size"] == 5
    assert obj["eTag"] == "5d41402abc4b2a76b9719d911017c592" and obj["sequencer"]
    assert len(received(server, "s3-sink")) == 1  # out/ was filtered out


def test_notifications_survive_sigkill_after_the_writes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="notify-kill")
        url, arn = s3_queue(server, "notify-kill", "notify-kill")
        s3.put_bucket_notification_configuration(
            Bucket="notify-kill",
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:Put"]}]
            },
        )
        keys = {f"k{i:03d}" for i in range(200)}
        for key in sorted(keys):
            s3.put_object(Bucket="notify-kill", Key=key, Body=b"x")
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(30)
    finally:
        server.stop()
    again = start_server(data)
    try:
        sqs = again.client("sqs")
        seen: set[str] = set()

        def drain() -> bool:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for m in got.get("Messages", []):
                seen.add(json.loads(m["Body"])["Records"][0]["s3"]["object"]["key"])
            return keys <= seen

        wait_for(drain, "every accepted PUT's notification")
    finally:
        again.stop()
