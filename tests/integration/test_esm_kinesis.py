"""Kinesis event source mappings end to end (partial): real boto3 against a real
`lambent serve` whose poller reads its own stream and invokes a real function. The
function reports each batch it got to an SQS queue (with boto3 against Lambent's
endpoint), so the test sees exactly what was delivered, in which batches and order."""

from __future__ import annotations

import base64
import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role, start_server

BOUND_S = 60.0  # against hangs only

REPORT = """
import json, os, boto3
sqs = boto3.client("sqs")
def handler(event, context):
    url = sqs.get_queue_url(QueueName=os.environ["OUT"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
"""


def wait_for(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_records_reach_the_function_in_shard_order_in_aws_shape(server: ServerProcess) -> None:
    k, sqs, lam = server.client("kinesis"), server.client("sqs"), server.client("lambda")
    out = sqs.create_queue(QueueName="kinesis-esm-out")["QueueUrl"]
    k.create_stream(StreamName="esm-in", ShardCount=2)
    arn = k.describe_stream_summary(StreamName="esm-in")["StreamDescriptionSummary"]["StreamARN"]
    role = lambda_role(server, "kinesis-esm")
    lam.create_function(
        FunctionName="kinesis-esm",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip(REPORT)},
        Environment={"Variables": {"OUT": "kinesis-esm-out"}},
        Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="kinesis-esm")
    early = k.put_records(
        StreamName="esm-in",
        Records=[{"Data": f"early-{i}".encode(), "PartitionKey": f"k{i % 5}"} for i in range(30)],
    )["Records"]
    mapping = lam.create_event_source_mapping(
        FunctionName="kinesis-esm",
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=7,
    )["UUID"]
    late = k.put_records(
        StreamName="esm-in",
        Records=[{"Data": f"late-{i}".encode(), "PartitionKey": f"k{i % 5}"} for i in range(20)],
    )["Records"]
    batches: list[list[dict[str, Any]]] = []

    def collected() -> bool:
        got = sqs.receive_message(QueueUrl=out, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in got.get("Messages", []):
            batches.append(json.loads(m["Body"])["Records"])
            sqs.delete_message(QueueUrl=out, ReceiptHandle=m["ReceiptHandle"])
        return sum(len(b) for b in batches) >= 50

    wait_for(collected, "all 50 records delivered")
    assert all(1 <= len(b) <= 7 for b in batches)
    first = batches[0][0]
    assert list(first) == [
        "kinesis",
        "eventSource",
        "eventVersion",
        "eventID",
        "eventName",
        "invokeIdentityArn",
        "awsRegion",
        "eventSourceARN",
    ]
    assert list(first["kinesis"]) == [
        "kinesisSchemaVersion",
        "partitionKey",
        "sequenceNumber",
        "data",
        "approximateArrivalTimestamp",
    ]
    assert first["eventSource"] == "aws:kinesis" and first["eventSourceARN"] == arn
    assert first["invokeIdentityArn"] == role
    for shard in ("shardId-000000000000", "shardId-000000000001"):
        mine = [b for b in batches if b[0]["eventID"].startswith(shard)]
        assert all(r["eventID"].startswith(shard) for b in mine for r in b)  # one shard a batch
        seen = [r["kinesis"]["sequenceNumber"] for b in mine for r in b]
        put = [r["SequenceNumber"] for r in early + late if r["ShardId"] == shard]
        assert seen == put  # every record once, in the shard's order
        data = [base64.b64decode(r["kinesis"]["data"]) for b in mine for r in b]
        assert all(d.startswith((b"early-", b"late-")) for d in data)
    lam.delete_event_source_mapping(UUID=mapping)


def test_filter_criteria_see_the_data(server: ServerProcess) -> None:
    k, sqs, lam = server.client("kinesis"), server.client("sqs"), server.client("lambda")
    out = sqs.create_queue(QueueName="kinesis-esm-filtered")["QueueUrl"]
    k.create_stream(StreamName="esm-filter", ShardCount=1)
    arn = k.describe_stream_summary(StreamName="esm-filter")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    lam.create_function(
        FunctionName="kinesis-esm-filter",
        Runtime="python3.12",
        Role=lambda_role(server, "kinesis-esm-filter"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(REPORT)},
        Environment={"Variables": {"OUT": "kinesis-esm-filtered"}},
        Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="kinesis-esm-filter")
    values = [json.dumps({"n": i, "keep": i % 2 == 0}).encode() for i in range(10)]
    k.put_records(
        StreamName="esm-filter", Records=[{"Data": v, "PartitionKey": "p"} for v in values]
    )
    pattern = json.dumps({"data": {"keep": [True]}})
    mapping = lam.create_event_source_mapping(
        FunctionName="kinesis-esm-filter",
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        FilterCriteria={"Filters": [{"Pattern": pattern}]},
    )["UUID"]
    seen: list[int] = []

    def collected() -> bool:
        got = sqs.receive_message(QueueUrl=out, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in got.get("Messages", []):
            for r in json.loads(m["Body"])["Records"]:
                seen.append(json.loads(base64.b64decode(r["kinesis"]["data"]))["n"])
            sqs.delete_message(QueueUrl=out, ReceiptHandle=m["ReceiptHandle"])
        return len(seen) >= 5

    wait_for(collected, "the 5 matching records")
    assert seen == [0, 2, 4, 6, 8]
    lam.delete_event_source_mapping(UUID=mapping)


def test_a_restart_resumes_from_the_checkpoint(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "data")
    try:
        k, sqs, lam = srv.client("kinesis"), srv.client("sqs"), srv.client("lambda")
        out = sqs.create_queue(QueueName="kinesis-esm-restart")["QueueUrl"]
        k.create_stream(StreamName="esm-restart", ShardCount=1)
        arn = k.describe_stream_summary(StreamName="esm-restart")["StreamDescriptionSummary"][
            "StreamARN"
        ]
        lam.create_function(
            FunctionName="kinesis-esm-restart",
            Runtime="python3.12",
            Role=lambda_role(srv, "kinesis-esm-restart"),
            Handler="app.handler",
            Code={"ZipFile": python_zip(REPORT)},
            Environment={"Variables": {"OUT": "kinesis-esm-restart"}},
            Timeout=30,
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="kinesis-esm-restart")
        lam.create_event_source_mapping(
            FunctionName="kinesis-esm-restart",
            EventSourceArn=arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=5,
        )
        put = [
            k.put_record(StreamName="esm-restart", Data=str(i).encode(), PartitionKey="p")
            for i in range(10)
        ]
        wait_for(
            lambda: (
                int(
                    sqs.get_queue_attributes(
                        QueueUrl=out, AttributeNames=["ApproximateNumberOfMessages"]
                    )["Attributes"]["ApproximateNumberOfMessages"]
                )
                >= 1
            ),
            "a first batch",
        )
    finally:
        srv.stop(sig=signal.SIGKILL)
    again = start_server(tmp_path / "data")
    try:
        k, sqs = again.client("kinesis"), again.client("sqs")
        put += [
            k.put_record(StreamName="esm-restart", Data=str(i).encode(), PartitionKey="p")
            for i in range(10, 15)
        ]
        seen: list[str] = []

        def collected() -> bool:
            got = sqs.receive_message(QueueUrl=out, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for m in got.get("Messages", []):
                batch = [r["kinesis"]["sequenceNumber"] for r in json.loads(m["Body"])["Records"]]
                assert batch == sorted(batch, key=int)
                seen.extend(batch)
                sqs.delete_message(QueueUrl=out, ReceiptHandle=m["ReceiptHandle"])
            return set(seen) >= {p["SequenceNumber"] for p in put}

        wait_for(collected, "every record, across the restart")
        # At least once: a batch in flight at the kill may come again, nothing is lost.
        assert len(seen) <= len(put) + 10
    finally:
        again.stop()
