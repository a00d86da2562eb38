"""SQS's query protocol, as SDKs spoke it before JSON: a botocore client built on the
2012-11-05 query model (form-encoded requests, XML answers parsed by botocore's query
parser), signed, against a real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambent.api.protocols.sqs_query import query_model_data
from tests.support import ServerProcess


def query_client(server: ServerProcess, tmp: Path) -> Any:
    where = tmp / "sqs" / "2012-11-05"
    where.mkdir(parents=True)
    (where / "service-2.json").write_text(json.dumps(query_model_data()))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(tmp))
    key, secret = server.credentials()
    return session.create_client(
        "sqs",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0}),
    )


def test_query_protocol_flow(server: ServerProcess, tmp_path: Path) -> None:
    sqs = query_client(server, tmp_path)
    assert sqs.meta.service_model.protocol == "query"
    url = sqs.create_queue(
        QueueName="query-q", Attributes={"VisibilityTimeout": "40"}, tags={"k": "v"}
    )["QueueUrl"]
    attrs = {"a": {"DataType": "String", "StringValue": "x"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes=attrs)
    batch = sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "b1"}, {"Id": "2", "MessageBody": "b2"}]
    )
    assert [e["Id"] for e in batch["Successful"]] == ["1", "2"]
    got = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    assert [m["Body"] for m in got] == ["hello", "b1", "b2"]
    assert got[0]["MessageAttributes"]["a"]["StringValue"] == "x"
    assert got[0]["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert got[0]["Attributes"]["ApproximateReceiveCount"] == "1"
    done = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
    )
    assert len(done["Successful"]) == 3
    shown = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert shown["VisibilityTimeout"] == "40" and shown["ApproximateNumberOfMessages"] == "0"
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"k": "v"}
    assert url in sqs.list_queues(QueueNamePrefix="query-")["QueueUrls"]
    with pytest.raises(ClientError) as err:
        sqs.get_queue_url(QueueName="query-none")
    assert err.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(ClientError) as err:
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)]
        )
    code = err.value.response["Error"]["Code"]
    assert code == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
