"""SQS through real boto3 against a real `lambent serve`.

botocore 1.43 no longer checks SQS's digests itself (older botocore and the Java SDK do),
so the tests check MD5OfMessageBody and MD5OfMessageAttributes against AWS's algorithm
as the SDKs implement it (`_attributes_md5` below, written independently of Lambent's)."""

from __future__ import annotations

import hashlib
import json
import struct
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import ServerProcess


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def _attributes_md5(attrs: dict[str, dict[str, Any]]) -> str:
    out = b""
    for name in sorted(attrs):
        value = attrs[name]
        kind = value["DataType"]
        data = value["BinaryValue"] if kind.startswith("Binary") else value["StringValue"].encode()
        for part in (name.encode(), kind.encode()):
            out += struct.pack(">I", len(part)) + part
        out += (b"\x02" if kind.startswith("Binary") else b"\x01") + struct.pack(">I", len(data))
        out += data
    return hashlib.md5(out).hexdigest()


def _sqs(server: ServerProcess) -> Any:
    return server.client("sqs")


def test_standard_queue_send_receive_delete_with_attributes(server: ServerProcess) -> None:
    sqs = _sqs(server)
    url = sqs.create_queue(QueueName="std-basic", tags={"team": "a"})["QueueUrl"]
    account = server.client("sts").get_caller_identity()["Account"]
    assert url == f"{server.endpoint}/{account}/std-basic"
    assert sqs.get_queue_url(QueueName="std-basic")["QueueUrl"] == url
    attrs: dict[str, dict[str, Any]] = {
        "s": {"DataType": "String", "StringValue": "héllo"},
        "n": {"DataType": "Number.int", "StringValue": "42"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody="body ✓", MessageAttributes=attrs)
    assert sent["MD5OfMessageBody"] == hashlib.md5("body ✓".encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == _attributes_md5(attrs)
    got = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )["Messages"]
    (m,) = got
    assert m["Body"] == "body ✓" and m["MessageId"] == sent["MessageId"]
    assert m["MessageAttributes"]["b"]["BinaryValue"] == b"\x00\xff"
    assert m["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert m["MD5OfMessageAttributes"] == _attributes_md5(m["MessageAttributes"])
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(m["Attributes"])
    only_s = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages")
    assert only_s is None  # still in flight
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert counts["QueueArn"] == f"arn:aws:sqs:us-east-1:{account}:std-basic"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}
    sqs.tag_queue(QueueUrl=url, Tags={"x": "1"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"x": "1"}


def test_batches_and_their_errors(server: ServerProcess) -> None:
    sqs = _sqs(server)
    url = sqs.create_queue(QueueName="std-batch")["QueueUrl"]
    entries = [{"Id": f"e{i}", "MessageBody": f"m{i}"} for i in range(10)]
    entries[3]["DelaySeconds"] = 901  # type: ignore[assignment]
    out = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert len(out["Successful"]) == 9
    (failed,) = out["Failed"]
    assert failed["Id"] == "e3" and failed["Code"] == "InvalidParameterValue"
    assert failed["SenderFault"] is True
    got: list[dict[str, Any]] = []
    while len(got) < 9:
        got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    done = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        + [{"Id": "bad", "ReceiptHandle": "not-a-handle"}],
    )
    assert len(done["Successful"]) == 9
    assert done["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    with pytest.raises(ClientError) as err:
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)]
        )
    assert _code(err) == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    with pytest.raises(ClientError) as err:
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}]
        )
    assert _code(err) == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    with pytest.raises(ClientError) as err:
        sqs.send_message_batch(QueueUrl=url, Entries=[])
    assert _code(err) == "AWS.SimpleQueueService.EmptyBatchRequest"


def test_long_polling_is_woken_by_a_send(server: ServerProcess) -> None:
    sqs = _sqs(server)
    url = sqs.create_queue(QueueName="std-longpoll")["QueueUrl"]
    result: dict[str, Any] = {}
    started = threading.Event()

    def receive() -> None:
        client = _sqs(server)
        started.set()
        result.update(client.receive_message(QueueUrl=url, WaitTimeSeconds=20))

    waiter = threading.Thread(target=receive)
    waiter.start()
    assert started.wait(30)
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    waiter.join(60)
    assert not waiter.is_alive()
    # The receive may have begun after the send; either way it returns the message.
    assert [m["Body"] for m in result["Messages"]] == ["wake up"]


def test_a_message_returns_after_its_visibility_timeout(server: ServerProcess) -> None:
    sqs = _sqs(server)
    url = sqs.create_queue(QueueName="std-visibility")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="again")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0]
    # The long poll waits for the message to become visible again (no sleep here).
    second = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"][0]
    assert second["MessageId"] == first["MessageId"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    # The first receipt is stale: changing visibility through it is refused.
    with pytest.raises(ClientError) as err:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=10
        )
    assert _code(err) == "InvalidParameterValue"
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0
    )
    third = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"][0]
    assert third["MessageId"] == first["MessageId"]


def test_dlq_redrive_after_max_receive_count(server: ServerProcess) -> None:
    sqs = _sqs(server)
    dlq = sqs.create_queue(QueueName="redrive-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    src = sqs.create_queue(QueueName="redrive-src", Attributes={"RedrivePolicy": policy})[
        "QueueUrl"
    ]
    stored = sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["RedrivePolicy"])
    assert json.loads(stored["Attributes"]["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": 2,
    }
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
    sqs.send_message(QueueUrl=src, MessageBody="poison")
    for _ in range(2):
        got = sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)["Messages"]
        assert got[0]["Body"] == "poison"
    assert "Messages" not in sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)
    moved = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=20)["Messages"]
    assert [m["Body"] for m in moved] == ["poison"]
    bad = json.dumps({"deadLetterTargetArn": dlq_arn + "-nope", "maxReceiveCount": 2})
    with pytest.raises(ClientError) as err:
        sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": bad})
    assert _code(err) == "InvalidParameterValue"


def test_fifo_order_groups_and_deduplication(server: ServerProcess) -> None:
    sqs = _sqs(server)
    url = sqs.create_queue(
        QueueName="orders.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for i in range(4):
        for g in ("a", "b"):
            sqs.send_message(QueueUrl=url, MessageBody=f"{g}{i}", MessageGroupId=g)
    dup = sqs.send_message(QueueUrl=url, MessageBody="a0", MessageGroupId="a")
    first = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert [m["Body"] for m in first] == ["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3"]
    assert first[0]["MessageId"] == dup["MessageId"]  # the duplicate was not stored again
    seqs = [int(m["Attributes"]["SequenceNumber"]) for m in first]
    assert seqs == sorted(seqs) and first[0]["Attributes"]["MessageGroupId"] == "a"
    # Every group has messages in flight: nothing more until they are settled.
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with pytest.raises(ClientError) as err:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert _code(err) == "MissingParameter"
    with pytest.raises(ClientError) as err:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="a", DelaySeconds=5)
    assert _code(err) == "InvalidParameterValue"


def test_bad_input_gets_aws_errors(server: ServerProcess) -> None:
    sqs = _sqs(server)
    with pytest.raises(ClientError) as err:
        sqs.get_queue_url(QueueName="no-such-queue")
    assert _code(err) == "AWS.SimpleQueueService.NonExistentQueue"
    assert isinstance(err.value, sqs.exceptions.QueueDoesNotExist)
    with pytest.raises(ClientError) as err:
        sqs.create_queue(QueueName="bad name")
    assert _code(err) == "InvalidParameterValue"
    with pytest.raises(ClientError) as err:
        sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "43201"})
    assert _code(err) == "InvalidAttributeValue"
    with pytest.raises(ClientError) as err:
        sqs.create_queue(QueueName="q", Attributes={"Bogus": "1"})
    assert _code(err) == "InvalidAttributeName"
    url = sqs.create_queue(QueueName="errors-q", Attributes={"VisibilityTimeout": "10"})["QueueUrl"]
    with pytest.raises(ClientError) as err:
        sqs.create_queue(QueueName="errors-q", Attributes={"VisibilityTimeout": "11"})
    assert _code(err) == "QueueAlreadyExists"
    with pytest.raises(ClientError) as err:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert _code(err) == "InvalidParameterValue"
    with pytest.raises(ClientError) as err:
        sqs.send_message(QueueUrl=url, MessageBody="x" * (1024 * 1024 + 1))
    assert _code(err) == "InvalidParameterValue"
    with pytest.raises(ClientError) as err:
        sqs.send_message(QueueUrl=url, MessageBody="bad \x01 char")
    assert _code(err) == "InvalidMessageContents"
    with pytest.raises(ClientError) as err:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage!")
    assert _code(err) == "ReceiptHandleIsInvalid"
    sqs.purge_queue(QueueUrl=url)
    with pytest.raises(ClientError) as err:
        sqs.purge_queue(QueueUrl=url)
    assert _code(err) == "AWS.SimpleQueueService.PurgeQueueInProgress"
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as err:
        sqs.create_queue(QueueName="errors-q")
    assert _code(err) == "AWS.SimpleQueueService.QueueDeletedRecently"


def test_list_queues_pages(server: ServerProcess) -> None:
    sqs = _sqs(server)
    for i in range(5):
        sqs.create_queue(QueueName=f"page-{i}")
    first = sqs.list_queues(QueueNamePrefix="page-", MaxResults=2)
    assert [u.rsplit("/", 1)[1] for u in first["QueueUrls"]] == ["page-0", "page-1"]
    seen = list(first["QueueUrls"])
    token = first.get("NextToken")
    while token:
        page = sqs.list_queues(QueueNamePrefix="page-", MaxResults=2, NextToken=token)
        seen += page["QueueUrls"]
        token = page.get("NextToken")
    assert [u.rsplit("/", 1)[1] for u in seen] == [f"page-{i}" for i in range(5)]


def test_a_move_task_returns_dead_letters_to_their_source(server: ServerProcess) -> None:
    sqs = _sqs(server)
    dlq = sqs.create_queue(QueueName="move-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    with pytest.raises(ClientError) as err:
        sqs.start_message_move_task(SourceArn=dlq_arn)
    assert _code(err) == "InvalidParameterValue"  # not anyone's dead-letter queue yet
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    src = sqs.create_queue(QueueName="move-src", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=src, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)]
    )
    received = 0
    while received < 5:
        received += len(
            sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)[
                "Messages"
            ]
        )
    assert "Messages" not in sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    back: set[str] = set()
    while len(back) < 5:
        got = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, WaitTimeSeconds=20)
        back.update(m["Body"] for m in got["Messages"])
    assert back == {f"m{i}" for i in range(5)}
    (task,) = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert task["ApproximateNumberOfMessagesMoved"] == 5
    assert task["SourceArn"] == dlq_arn and task["DestinationArn"].endswith(":move-src")
    if task["Status"] == "RUNNING":
        assert task["TaskHandle"] == handle
    with pytest.raises(ClientError) as err:
        sqs.cancel_message_move_task(TaskHandle="bm9wZQ==")
    assert _code(err) == "ResourceNotFoundException"


def test_fifo_receive_request_attempt_id_returns_the_same_receive(server: ServerProcess) -> None:
    sqs = _sqs(server)
    url = sqs.create_queue(
        QueueName="attempts.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="a1")
    retry = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="a1")
    assert [m["ReceiptHandle"] for m in retry["Messages"]] == [
        m["ReceiptHandle"] for m in first["Messages"]
    ]
    assert [m["Body"] for m in first["Messages"]] == ["m0", "m1"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="a2")
