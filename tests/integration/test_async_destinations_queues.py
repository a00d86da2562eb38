"""Async invoke's destinations on SQS and EventBridge (issue 11 §6): real boto3, a real
server. OnSuccess to a bus whose rule sends to a queue, OnFailure to a queue, the
function's DeadLetterConfig to a queue with AWS's message attributes."""

from __future__ import annotations

import json
from typing import Any

from tests.fixtures.functions import python_zip
from tests.integration.test_eventbridge import events_queue, receive_all
from tests.support import ServerProcess, lambda_role

CODE = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"ok": event["n"]}
"""


def test_destinations_on_queues_and_buses(server: ServerProcess) -> None:
    lam, sqs, events = (server.client(s) for s in ("lambda", "sqs", "events"))
    fail_url, fail_arn = events_queue(sqs, "dest-failure", allow_events=False)
    dlq_url, dlq_arn = events_queue(sqs, "dest-dlq", allow_events=False)
    ok_url, ok_arn = events_queue(sqs, "dest-success-via-bus")
    lam.create_function(
        FunctionName="dest-fn",
        Runtime="python3.12",
        Role=lambda_role(server, "dest-fn"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(CODE)},
        DeadLetterConfig={"TargetArn": dlq_arn},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="dest-fn")
    bus_arn = events.create_event_bus(Name="results")["EventBusArn"]
    events.put_rule(Name="successes", EventBusName="results", EventPattern='{"source": ["lambda"]}')
    events.put_targets(
        Rule="successes", EventBusName="results", Targets=[{"Id": "q", "Arn": ok_arn}]
    )
    lam.put_function_event_invoke_config(
        FunctionName="dest-fn",
        MaximumRetryAttempts=0,
        DestinationConfig={
            "OnSuccess": {"Destination": bus_arn},
            "OnFailure": {"Destination": fail_arn},
        },
    )
    lam.invoke(FunctionName="dest-fn", InvocationType="Event", Payload=b'{"n": 7}')
    lam.invoke(FunctionName="dest-fn", InvocationType="Event", Payload=b'{"fail": true}')
    (success,) = receive_all(sqs, ok_url, 1)
    event: dict[str, Any] = json.loads(success["Body"])
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["detail"]["responsePayload"] == {"ok": 7}
    assert event["detail"]["requestContext"]["condition"] == "Success"
    (failure,) = receive_all(sqs, fail_url, 1)
    record = json.loads(failure["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"fail": True}
    (dead,) = receive_all(sqs, dlq_url, 1)
    assert json.loads(dead["Body"]) == {"fail": True}
    attrs = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
    assert attrs["ErrorCode"] == "200"
    assert attrs["ErrorMessage"] == "asked to fail"
    assert attrs["RequestID"] == record["requestContext"]["requestId"]
