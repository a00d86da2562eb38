"""EventBridge Scheduler end to end: real boto3 against a real `lambent serve` (SQLite, or
PostgreSQL with LAMBENT_TEST_DATABASE=postgres). An `at()` a few seconds ahead invokes a
real function and sends to a real queue; AWS's errors for bad input."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role

BOUND_S = 60.0  # against hangs only

# Each invocation sends its event to a queue the test reads, so the test sees it arrive.
RELAY = """
import json, os, boto3
def handler(event, context):
    sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    url = sqs.get_queue_url(QueueName="sched-seen")["QueueUrl"]
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


@pytest.fixture(scope="module")
def sched(server: ServerProcess) -> Any:
    return server.client("scheduler")


def at_in(seconds: int) -> str:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})"


def role(server: ServerProcess) -> str:
    return lambda_role(server, "scheduler-role")


def receive(sqs: Any, url: str) -> list[dict[str, Any]]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return list(got.get("Messages", []))


def test_at_invokes_a_function_then_deletes_itself(server: ServerProcess, sched: Any) -> None:
    sqs = server.client("sqs")
    seen = sqs.create_queue(QueueName="sched-seen")["QueueUrl"]
    lam = server.client("lambda")
    fn = lam.create_function(
        FunctionName="sched-fn",
        Runtime="python3.12",
        Role=role(server),
        Handler="app.handler",
        Code={"ZipFile": python_zip(RELAY)},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName="sched-fn")
    sched.create_schedule(
        Name="once",
        ScheduleExpression=at_in(2),
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={"Arn": fn, "RoleArn": role(server), "Input": json.dumps({"hello": "at"})},
    )
    assert sched.get_schedule(Name="once")["ActionAfterCompletion"] == "DELETE"
    messages = wait_for(lambda: receive(sqs, seen), "the function's relay message")
    assert json.loads(messages[0]["Body"]) == {"hello": "at"}
    wait_for(lambda: not sched.list_schedules()["Schedules"], "the schedule deleted")


def test_rate_sends_to_a_queue_and_crud(server: ServerProcess, sched: Any) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="sched-target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sched.create_schedule_group(Name="g", Tags=[{"Key": "k", "Value": "v"}])
    out = sched.create_schedule(
        Name="every",
        GroupName="g",
        ScheduleExpression="rate(1 minute)",  # starts at once without StartDate
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": role(server), "Input": "tick"},
    )
    assert out["ScheduleArn"].endswith(":schedule/g/every")
    got = wait_for(lambda: receive(sqs, url), "the first tick")
    assert got[0]["Body"] == "tick"
    s = sched.get_schedule(Name="every", GroupName="g")
    assert s["State"] == "ENABLED" and s["Target"]["RoleArn"] == role(server)
    sched.update_schedule(
        Name="every",
        GroupName="g",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5},
        State="DISABLED",
        Target={"Arn": arn, "RoleArn": role(server)},
    )
    assert sched.get_schedule(Name="every", GroupName="g")["State"] == "DISABLED"
    names = [s["Name"] for s in sched.list_schedules(GroupName="g")["Schedules"]]
    assert names == ["every"]
    groups = {g["Name"] for g in sched.list_schedule_groups()["ScheduleGroups"]}
    assert {"default", "g"} <= groups
    group_arn = sched.get_schedule_group(Name="g")["Arn"]
    assert sched.list_tags_for_resource(ResourceArn=group_arn)["Tags"] == [
        {"Key": "k", "Value": "v"}
    ]
    sched.delete_schedule_group(Name="g")
    with pytest.raises(ClientError) as err:
        sched.get_schedule(Name="every", GroupName="g")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "expression",
    ["cron(0 10 * * ?)", "cron(0 10 * * * *)", "rate(0 minutes)", "rate(5 seconds)"],
)
def test_bad_expressions_get_aws_error(server: ServerProcess, sched: Any, expression: str) -> None:
    with pytest.raises(ClientError) as err:
        sched.create_schedule(
            Name="bad",
            ScheduleExpression=expression,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "RoleArn": "arn:aws:iam::123456789012:role/r",
            },
        )
    error = err.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == f"Invalid Schedule Expression {expression}"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_not_found_and_conflict(server: ServerProcess, sched: Any) -> None:
    with pytest.raises(ClientError) as err:
        sched.get_schedule(Name="nope")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == "Schedule nope does not exist."
    sched.create_schedule_group(Name="dup")
    with pytest.raises(ClientError) as err:
        sched.create_schedule_group(Name="dup")
    assert err.value.response["Error"]["Code"] == "ConflictException"


def test_an_sns_target_publishes(server: ServerProcess, sched: Any) -> None:
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name="sched-topic")["TopicArn"]
    url = sqs.create_queue(QueueName="sched-from-topic")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
    }
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    sched.create_schedule(
        Name="to-topic",
        ScheduleExpression=at_in(1),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": topic, "RoleArn": role(server), "Input": "via sns"},
    )
    got = wait_for(lambda: receive(sqs, url), "the published message")
    assert got[0]["Body"] == "via sns"
