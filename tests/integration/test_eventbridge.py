"""EventBridge end to end: real boto3 against a real `lambent serve`. What targets got is
read from SQS queues and from the functions' logs; nothing waits on a sleep."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, create_account, http_get, lambda_role

BOUND_S = 60.0  # against hangs only

PRINTER = """
import json
def handler(event, context):
    print("EVENT " + json.dumps(event))
"""


def wait_for(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def events_queue(sqs: Any, name: str, allow_events: bool = True) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    if allow_events:
        policy = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                }
            ]
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url, arn


def receive_all(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []

    def more() -> bool:
        out = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        )
        got.extend(out.get("Messages", []))
        return len(got) >= count

    wait_for(more, f"{count} messages")
    return got


def entry(detail: dict[str, Any], source: str = "app.orders", **kw: Any) -> dict[str, Any]:
    return {"Source": source, "DetailType": "order", "Detail": json.dumps(detail), **kw}


@pytest.fixture(scope="module")
def events(server: ServerProcess) -> Any:
    return server.client("events")


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return server.client("sqs")


def test_buses(events: Any) -> None:
    arn = events.create_event_bus(Name="orders")["EventBusArn"]
    assert arn.endswith(":event-bus/orders")
    names = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert "default" in names and "orders" in names
    assert events.describe_event_bus(Name="orders")["Arn"] == arn
    with pytest.raises(ClientError) as err:
        events.create_event_bus(Name="orders")
    assert err.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    events.delete_event_bus(Name="orders")
    with pytest.raises(ClientError) as err:
        events.describe_event_bus(Name="orders")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_bad_input_changes_nothing(events: Any) -> None:
    with pytest.raises(ClientError) as err:
        events.put_rule(Name="bad", EventPattern='{"source": "not-an-array"}')
    assert err.value.response["Error"]["Code"] == "InvalidEventPatternException"
    assert err.value.response["Error"]["Message"].startswith("Event pattern is not valid. Reason: ")
    assert [r for r in events.list_rules()["Rules"] if r["Name"] == "bad"] == []
    with pytest.raises(ClientError) as err:
        events.put_events(Entries=[entry({"n": i}) for i in range(11)])
    assert err.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as err:
        events.put_rule(Name="cron5", ScheduleExpression="cron(0 12 * * ?)")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    out = events.put_events(Entries=[entry({"a": 1}), {"Source": "x", "DetailType": "y"}])
    assert out["FailedEntryCount"] == 1
    assert "EventId" in out["Entries"][0]
    assert out["Entries"][1]["ErrorCode"] == "InvalidArgument"


def test_test_event_pattern(events: Any) -> None:
    event = {
        "id": "1",
        "account": "123456789012",
        "source": "app.orders",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "detail-type": "order",
        "detail": {"total": 120},
    }
    pattern = {"detail": {"total": [{"numeric": [">", 100]}]}}
    got = events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))
    assert got["Result"] is True


def test_input_transformer_to_sqs(events: Any, sqs: Any) -> None:
    url, arn = events_queue(sqs, "eb-transformed")
    events.put_rule(Name="big-orders", EventPattern=json.dumps({"source": ["app.orders"]}))
    failed = events.put_targets(
        Rule="big-orders",
        Targets=[
            {
                "Id": "q",
                "Arn": arn,
                "InputTransformer": {
                    "InputPathsMap": {"id": "$.detail.id", "total": "$.detail.total"},
                    "InputTemplate": '{"order": <id>, "text": "total is <total>", "n": <total>}',
                },
            }
        ],
    )
    assert failed["FailedEntryCount"] == 0
    events.put_events(Entries=[entry({"id": "o-1", "total": 12})])
    (message,) = receive_all(sqs, url, 1)
    assert json.loads(message["Body"]) == {"order": "o-1", "text": "total is 12", "n": 12}
    listed = events.list_targets_by_rule(Rule="big-orders")["Targets"]
    assert [t["Id"] for t in listed] == ["q"]
    events.remove_targets(Rule="big-orders", Ids=["q"])
    events.delete_rule(Name="big-orders")


def test_lambda_target_with_permission_and_dlq_without(
    server: ServerProcess, events: Any, sqs: Any
) -> None:
    lam = server.client("lambda")
    for name in ("eb-allowed", "eb-denied"):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=lambda_role(server, name),
            Handler="app.handler",
            Code={"ZipFile": python_zip(PRINTER)},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
    rule_arn = events.put_rule(
        Name="to-lambda", EventPattern=json.dumps({"detail-type": ["lambda-test"]})
    )["RuleArn"]
    lam.add_permission(
        FunctionName="eb-allowed",
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )
    dlq_url, dlq_arn = events_queue(sqs, "eb-dlq")
    allowed = lam.get_function(FunctionName="eb-allowed")["Configuration"]["FunctionArn"]
    denied = lam.get_function(FunctionName="eb-denied")["Configuration"]["FunctionArn"]
    events.put_targets(
        Rule="to-lambda",
        Targets=[
            {"Id": "ok", "Arn": allowed},
            {
                "Id": "no",
                "Arn": denied,
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60},
                "DeadLetterConfig": {"Arn": dlq_arn},
            },
        ],
    )
    out = events.put_events(
        Entries=[{"Source": "app", "DetailType": "lambda-test", "Detail": '{"k": "v"}'}]
    )
    event_id = out["Entries"][0]["EventId"]
    logs = server.client("logs")

    def printed() -> Any:
        try:
            found = logs.filter_log_events(
                logGroupName="/aws/lambda/eb-allowed", filterPattern="EVENT"
            )["events"]
        except ClientError:
            return None
        return found

    (line,) = wait_for(printed, "the allowed function's invocation")
    event = json.loads(line["message"].split("EVENT ", 1)[1])
    assert event["id"] == event_id
    assert event["detail"] == {"k": "v"}
    assert event["detail-type"] == "lambda-test"
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    (dead,) = receive_all(sqs, dlq_url, 1)
    assert json.loads(dead["Body"])["id"] == event_id
    attrs = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
    assert attrs["ERROR_CODE"] == "AccessDeniedException"
    assert attrs["RULE_ARN"] == rule_arn
    assert attrs["TARGET_ARN"] == denied
    status, body = http_get(f"{server.endpoint}/_lambent/stats")
    assert status == 200
    stats = json.loads(body)["events"]
    assert stats["dead_lettered"] >= 1


def test_cross_account_put_events_needs_the_bus_policy(
    server: ServerProcess, events: Any, sqs: Any
) -> None:
    other_account, cred = create_account(server.data_dir)
    other = server.client("events", keys=(cred.access_key, cred.secret))
    bus_arn = events.create_event_bus(Name="shared")["EventBusArn"]
    url, arn = events_queue(sqs, "eb-shared")
    events.put_rule(
        Name="from-other", EventBusName="shared", EventPattern='{"source": ["other.app"]}'
    )
    events.put_targets(Rule="from-other", EventBusName="shared", Targets=[{"Id": "q", "Arn": arn}])
    refused = other.put_events(Entries=[entry({"n": 1}, "other.app", EventBusName=bus_arn)])
    assert refused["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    events.put_permission(
        EventBusName="shared", Action="events:PutEvents", Principal=other_account, StatementId="o"
    )
    took = other.put_events(Entries=[entry({"n": 2}, "other.app", EventBusName=bus_arn)])
    assert took["FailedEntryCount"] == 0
    (message,) = receive_all(sqs, url, 1)
    body = json.loads(message["Body"])
    assert body["detail"] == {"n": 2}
    assert body["account"] == other_account


def test_sns_target_publishes_to_the_topic(server: ServerProcess, events: Any, sqs: Any) -> None:
    sns = server.client("sns")
    topic = sns.create_topic(Name="eb-topic")["TopicArn"]
    url, arn = events_queue(sqs, "eb-via-topic", allow_events=False)
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
            }
        ]
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    events.put_rule(Name="to-topic", EventPattern='{"source": ["topic.app"]}')
    events.put_targets(
        Rule="to-topic", Targets=[{"Id": "t", "Arn": topic, "InputPath": "$.detail"}]
    )
    events.put_events(Entries=[entry({"via": "sns"}, "topic.app")])
    (message,) = receive_all(sqs, url, 1)
    assert json.loads(message["Body"]) == {"via": "sns"}
