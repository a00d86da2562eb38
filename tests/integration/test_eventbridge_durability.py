"""An accepted PutEvents survives SIGKILL: 200 PutEvents answered, the server killed right
after the last answer, restarted on the same data (SQLite, or the same PostgreSQL schema):
every event reaches both targets (an SQS queue and a Lambda function) at least once.

The function reports each event to a loopback probe in the test process, which outlives
the server (its logs would not do: log lines still buffered when the server is killed are
lost by design, while the invocation that printed them was already settled)."""

from __future__ import annotations

import json
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.fixtures.functions import python_zip
from tests.integration.esm_probe import Probe
from tests.integration.test_eventbridge import events_queue, wait_for
from tests.support import http_get, lambda_role, start_server

COUNT = 200


def _queue_ids(sqs: Any, url: str, seen: set[str]) -> bool:
    out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for message in out.get("Messages", []):
        seen.add(json.loads(message["Body"])["id"])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return len(seen) >= COUNT


REPORTER = """
import json, os, socket
NS = "host.lambent.internal"
HOST = NS if NS in open("/etc/hosts").read() else "127.0.0.1"
def handler(event, context):
    s = socket.create_connection((HOST, int(os.environ["PROBE"].rsplit(":", 1)[1])))
    s.sendall((json.dumps({"start": 0, "id": event["id"]}) + "\\n").encode())
    s.close()
"""


def _probed_ids(probe: Probe) -> set[str]:
    return {json.loads(line)["id"] for line in list(probe.lines)}


def test_accepted_events_reach_every_target_after_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    probe = Probe()
    server = start_server(data)
    try:
        sqs, events, lam = (server.client(s) for s in ("sqs", "events", "lambda"))
        url, arn = events_queue(sqs, "eb-durable")
        lam.create_function(
            FunctionName="eb-durable",
            Runtime="python3.12",
            Role=lambda_role(server, "eb-durable"),
            Handler="app.handler",
            Code={"ZipFile": python_zip(REPORTER)},
            Environment={"Variables": {"PROBE": probe.address}},
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
        sqs = server.client("sqs")
        in_queue: set[str] = set()
        wait_for(lambda: _queue_ids(sqs, url, in_queue), "200 events in the queue")
        assert accepted <= in_queue
        try:
            wait_for(lambda: accepted <= _probed_ids(probe), "200 invocations")
        except AssertionError:
            _, stats = http_get(f"{server.endpoint}/_lambent/stats")
            view = json.loads(stats)
            missing = len(accepted - _probed_ids(probe))
            raise AssertionError(
                f"{missing} not invoked; events {view.get('events')}; async {view.get('async')}"
            ) from None
    finally:
        server.stop()
