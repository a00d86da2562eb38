"""An accepted PutEvents survives SIGKILL: 200 PutEvents answered, the server killed right
after the last answer, restarted on the same data (SQLite, or the same PostgreSQL schema):
every event reaches both targets (an SQS queue and a Lambda function) at least once."""

from __future__ import annotations

import json
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.integration.test_eventbridge import PRINTER, events_queue, wait_for
from tests.support import lambda_role, start_server

COUNT = 200


def _queue_ids(sqs: Any, url: str, seen: set[str]) -> bool:
    out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for message in out.get("Messages", []):
        seen.add(json.loads(message["Body"])["id"])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return len(seen) >= COUNT


def _logged_ids(logs: Any, seen: set[str]) -> bool:
    kwargs: dict[str, Any] = {"logGroupName": "/aws/lambda/eb-durable", "filterPattern": "EVENT"}
    try:
        while True:
            page = logs.filter_log_events(**kwargs)
            for line in page["events"]:
                seen.add(json.loads(line["message"].split("EVENT ", 1)[1])["id"])
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    except ClientError:
        return False
    return len(seen) >= COUNT


def test_accepted_events_reach_every_target_after_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        sqs, events, lam = (server.client(s) for s in ("sqs", "events", "lambda"))
        url, arn = events_queue(sqs, "eb-durable")
        lam.create_function(
            FunctionName="eb-durable",
            Runtime="python3.12",
            Role=lambda_role(server, "eb-durable"),
            Handler="app.handler",
            Code={"ZipFile": python_zip(PRINTER)},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="eb-durable")
        rule_arn = events.put_rule(Name="durable", EventPattern='{"source": ["durable"]}')[
            "RuleArn"
        ]
        lam.add_permission(
            FunctionName="eb-durable",
            StatementId="events",
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=rule_arn,
        )
        fn_arn = lam.get_function(FunctionName="eb-durable")["Configuration"]["FunctionArn"]
        events.put_targets(
            Rule="durable", Targets=[{"Id": "q", "Arn": arn}, {"Id": "f", "Arn": fn_arn}]
        )

        def put(i: int) -> str:
            client = server.client("events")
            entry = {"Source": "durable", "DetailType": "t", "Detail": json.dumps({"i": i})}
            out = client.put_events(Entries=[entry])
            assert out["FailedEntryCount"] == 0
            return str(out["Entries"][0]["EventId"])

        with ThreadPoolExecutor(4) as pool:
            accepted = set(pool.map(put, range(COUNT)))
        server.stop(signal.SIGKILL)
    finally:
        server.stop()
    assert len(accepted) == COUNT
    server = start_server(data)
    try:
        sqs, logs = server.client("sqs"), server.client("logs")
        in_queue: set[str] = set()
        wait_for(lambda: _queue_ids(sqs, url, in_queue), "200 events in the queue")
        assert accepted <= in_queue
        invoked: set[str] = set()
        wait_for(lambda: _logged_ids(logs, invoked), "200 invocations")
        assert accepted <= invoked
    finally:
        server.stop()
