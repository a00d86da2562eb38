"""SNS against a real `lambent serve`: topics, subscriptions, fan-out to Lambda (through the
async path) and SQS, filter policies, permissions as AWS checks them. Functions print what
they receive and the tests read it back through the Logs API; what SNS did is read from
`/_lambent/stats` (Publish hands every delivery over before it answers)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, http_get, lambda_role

BOUND_S = 60.0  # against hangs only
SINK = """
import json
def handler(event, context):
    print("RECEIVED " + json.dumps(event))
"""


def wait_for(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def sns_stats(server: ServerProcess) -> dict[str, Any]:
    status, body = http_get(f"{server.endpoint}/_lambent/stats")
    assert status == 200
    return dict(json.loads(body)["sns"])


def received(server: ServerProcess, name: str) -> list[dict[str, Any]]:
    logs = server.client("logs")
    try:
        events = logs.filter_log_events(
            logGroupName=f"/aws/lambda/{name}", filterPattern='"RECEIVED"'
        )["events"]
    except ClientError as err:
        if err.response["Error"]["Code"] == "ResourceNotFoundException":
            return []
        raise
    return [json.loads(e["message"].split("RECEIVED ", 1)[1]) for e in events]


def sink(server: ServerProcess, name: str) -> str:
    lam = server.client("lambda")
    arn = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=lambda_role(server, name),
        Handler="app.handler",
        Code={"ZipFile": python_zip(SINK)},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return str(arn)


def allow_sns(server: ServerProcess, name: str, topic_arn: str) -> None:
    server.client("lambda").add_permission(
        FunctionName=name,
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic_arn,
    )


def sns_queue(server: ServerProcess, name: str, topic_arn: str) -> tuple[str, str]:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url, arn


def test_fan_out_to_two_functions_and_a_queue_with_a_filter(server: ServerProcess) -> None:
    sns = server.client("sns")
    topic = sns.create_topic(Name="fanout")["TopicArn"]
    assert sns.create_topic(Name="fanout")["TopicArn"] == topic  # idempotent
    one, two = sink(server, "sns-one"), sink(server, "sns-two")
    allow_sns(server, "sns-one", topic)
    allow_sns(server, "sns-two", topic)
    url, queue_arn = sns_queue(server, "sns-fanout", topic)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=one)
    sns.subscribe(
        TopicArn=topic,
        Protocol="lambda",
        Endpoint=two,
        Attributes={"FilterPolicy": json.dumps({"color": ["red"]})},
    )
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sorted(s["Protocol"] for s in subs) == ["lambda", "lambda", "sqs"]
    before = sns_stats(server)["filtered"]
    red = {"color": {"DataType": "String", "StringValue": "red"}}
    blue = {"color": {"DataType": "String", "StringValue": "blue"}}
    sns.publish(TopicArn=topic, Message="first", Subject="s1", MessageAttributes=red)
    sns.publish(TopicArn=topic, Message="second", MessageAttributes=blue)
    assert sns_stats(server)["filtered"] == before + 1  # "second" dropped for sns-two
    got_one = wait_for(lambda: len(received(server, "sns-one")) == 2, "sns-one's two")
    assert got_one
    records = [e["Records"][0] for e in received(server, "sns-one")]
    assert {r["Sns"]["Message"] for r in records} == {"first", "second"}
    first = next(r for r in records if r["Sns"]["Message"] == "first")
    assert first["EventSource"] == "aws:sns"
    assert first["Sns"]["TopicArn"] == topic and first["Sns"]["Subject"] == "s1"
    assert first["Sns"]["MessageAttributes"]["color"] == {"Type": "String", "Value": "red"}
    assert first["Sns"]["Signature"] and first["Sns"]["SigningCertUrl"]
    wait_for(lambda: received(server, "sns-two"), "sns-two's message")
    assert [e["Records"][0]["Sns"]["Message"] for e in received(server, "sns-two")] == ["first"]
    sqs = server.client("sqs")
    bodies: list[dict[str, Any]] = []

    def drain() -> bool:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        bodies.extend(json.loads(m["Body"]) for m in got.get("Messages", []))
        return len(bodies) >= 2

    wait_for(drain, "the queue's two envelopes")
    assert {b["Message"] for b in bodies} == {"first", "second"}
    assert all(b["Type"] == "Notification" and b["TopicArn"] == topic for b in bodies)


def test_a_function_without_permission_is_not_invoked(server: ServerProcess) -> None:
    sns = server.client("sns")
    topic = sns.create_topic(Name="no-permission")["TopicArn"]
    fn = sink(server, "sns-denied")
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn)
    before = sns_stats(server)["failed"].get("lambda", 0)
    sns.publish(TopicArn=topic, Message="nope")
    assert sns_stats(server)["failed"].get("lambda", 0) == before + 1
    assert received(server, "sns-denied") == []


def test_raw_delivery_and_message_structure(server: ServerProcess) -> None:
    sns = server.client("sns")
    topic = sns.create_topic(Name="raw")["TopicArn"]
    url, queue_arn = sns_queue(server, "sns-raw", topic)
    sub = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["RawMessageDelivery"] == "true" and attrs["TopicArn"] == topic
    message = json.dumps({"default": "plain", "sqs": "for-sqs"})
    sns.publish(TopicArn=topic, Message=message, MessageStructure="json")
    sqs = server.client("sqs")
    got = wait_for(
        lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), "raw"
    )
    assert got[0]["Body"] == "for-sqs"


def test_bad_input_gets_aws_errors(server: ServerProcess) -> None:
    sns = server.client("sns")
    topic = sns.create_topic(Name="errors")["TopicArn"]
    with pytest.raises(ClientError) as err:
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint="arn:aws:sqs:us-east-1:000000000000:q",
            Attributes={"FilterPolicy": json.dumps({"a": [{"prefix": 1}]})},
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameter"
    assert err.value.response["Error"]["Message"].startswith("Invalid parameter: FilterPolicy: ")
    with pytest.raises(ClientError) as err:
        sns.publish(TopicArn=topic + "-missing", Message="x")
    assert err.value.response["Error"]["Code"] == "NotFound"
    with pytest.raises(ClientError) as err:
        sns.publish(TopicArn=topic, Message="{}", MessageStructure="json")
    assert err.value.response["Error"]["Code"] == "InvalidParameter"
    sns.delete_topic(TopicArn=topic)
    assert topic not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]


FAIL = """
def handler(event, context):
    raise ValueError("boom")
"""


def test_topics_as_async_destination_and_dead_letter_target(server: ServerProcess) -> None:
    sns = server.client("sns")
    topic = sns.create_topic(Name="async-targets")["TopicArn"]
    url, queue_arn = sns_queue(server, "sns-async-targets", topic)
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    lam = server.client("lambda")
    lam.create_function(
        FunctionName="sns-dlq-source",
        Runtime="python3.12",
        Role=lambda_role(server, "sns-dlq-source"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(FAIL)},
        DeadLetterConfig={"TargetArn": topic},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="sns-dlq-source")
    lam.put_function_event_invoke_config(
        FunctionName="sns-dlq-source",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    lam.invoke(FunctionName="sns-dlq-source", InvocationType="Event", Payload=b'{"n": 1}')
    sqs = server.client("sqs")
    got: list[dict[str, Any]] = []

    def drain() -> bool:
        out = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        got.extend(out.get("Messages", []))
        return len(got) >= 2

    wait_for(drain, "the dead letter and the failure record")
    dead = next(m for m in got if json.loads(m["Body"]) == {"n": 1})
    attrs = dead["MessageAttributes"]
    assert attrs["RequestID"]["StringValue"] and attrs["ErrorCode"]["StringValue"] == "200"
    assert attrs["ErrorMessage"]["StringValue"] == "boom"
    record = next(json.loads(m["Body"]) for m in got if m is not dead)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"n": 1}
