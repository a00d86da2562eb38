"""SQS event source mappings end to end: real boto3 against a real `lambent serve` whose
pollers read its own queues and invoke real functions. What happened is read from the
queues and from the mapping's counters in `/_lambent/stats` (each record invoked is
counted once per delivery, so duplicates would show)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, http_get, lambda_role, start_server

BOUND_S = 60.0  # against hangs only

PARTIAL = """
import json
def handler(event, context):
    failed = [r["messageId"] for r in event["Records"] if r["body"].startswith("fail")]
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}
"""

ECHO = """
def handler(event, context):
    return None
"""


def wait_for(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def mapping_stats(server: ServerProcess, mapping_id: str) -> dict[str, Any]:
    status, body = http_get(f"{server.endpoint}/_lambent/stats")
    assert status == 200
    return dict(json.loads(body).get("mappings", {}).get(mapping_id, {}))


def counts(sqs: Any, url: str) -> tuple[int, int]:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
    )


def function(server: ServerProcess, name: str, code: str) -> str:
    lam = server.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=lambda_role(server, name),
        Handler="app.handler",
        Code={"ZipFile": python_zip(code)},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def queue(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return server.client("sqs")


def test_three_of_ten_reported_failures_return_and_reach_the_dlq(
    server: ServerProcess, sqs: Any
) -> None:
    fn = function(server, "esm-partial", PARTIAL)
    dlq_url, dlq_arn = queue(sqs, "esm-partial-dlq")
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url, arn = queue(sqs, "esm-partial", VisibilityTimeout="1", RedrivePolicy=policy)
    bodies = [f"ok-{i}" for i in range(7)] + [f"fail-{i}" for i in range(3)]
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)]
    )
    lam = server.client("lambda")
    mapping = lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=arn,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )["UUID"]
    dead = wait_for(
        lambda: (
            sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages")
            if counts(sqs, dlq_url)[0] == 3
            else None
        ),
        "3 messages in the DLQ",
    )
    assert sorted(m["Body"] for m in dead) == ["fail-0", "fail-1", "fail-2"]
    wait_for(lambda: counts(sqs, url) == (0, 0), "the source queue empty")
    stats = wait_for(
        lambda: (s := mapping_stats(server, mapping)).get("failed_records") == 6 and s,
        "the counters",
    )
    # Each ok message was invoked once, each failing one twice (maxReceiveCount 2).
    assert stats["records"] == 7 + 3 * 2
    lam.delete_event_source_mapping(UUID=mapping)


def test_a_filter_drops_half_and_deletes_them(server: ServerProcess, sqs: Any) -> None:
    fn = function(server, "esm-filter", ECHO)
    url, arn = queue(sqs, "esm-filter")
    lam = server.client("lambda")
    mapping = lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=arn,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"keep": [True]}})}]},
    )["UUID"]
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "MessageBody": json.dumps({"keep": i % 2 == 0, "i": i})}
            for i in range(10)
        ],
    )
    stats = wait_for(
        lambda: (
            (s := mapping_stats(server, mapping)).get("filtered_out", 0) + s.get("records", 0) == 10
            and s
        ),
        "ten messages handled",
    )
    assert stats["filtered_out"] == 5 and stats["records"] == 5
    wait_for(lambda: counts(sqs, url) == (0, 0), "filtered messages deleted")
    lam.delete_event_source_mapping(UUID=mapping)


def test_disable_stops_polling_and_enable_resumes(server: ServerProcess, sqs: Any) -> None:
    fn = function(server, "esm-toggle", ECHO)
    url, arn = queue(sqs, "esm-toggle")
    lam = server.client("lambda")
    mapping = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn)["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody="one")
    wait_for(lambda: mapping_stats(server, mapping).get("records") == 1, "the first delivery")
    lam.update_event_source_mapping(UUID=mapping, Enabled=False)
    wait_for(lambda: not mapping_stats(server, mapping), "the poller stopped")
    sqs.send_message(QueueUrl=url, MessageBody="two")
    # Disabled: the message stays visible (nothing receives it). Read, never consumed.
    assert counts(sqs, url) == (1, 0)
    assert lam.get_event_source_mapping(UUID=mapping)["State"] == "Disabled"
    lam.update_event_source_mapping(UUID=mapping, Enabled=True)
    wait_for(lambda: mapping_stats(server, mapping).get("records") == 1, "the poller again")
    wait_for(lambda: counts(sqs, url) == (0, 0), "the second message delivered")
    lam.delete_event_source_mapping(UUID=mapping)


def test_maximum_concurrency_holds_inside_the_function(server: ServerProcess, sqs: Any) -> None:
    from tests.integration.esm_probe import HANDLER, Probe

    probe = Probe()
    try:
        lam = server.client("lambda")
        lam.create_function(
            FunctionName="esm-maxconc",
            Runtime="python3.12",
            Role=lambda_role(server, "esm-maxconc"),
            Handler="app.handler",
            Code={"ZipFile": python_zip(HANDLER)},
            Environment={"Variables": {"PROBE": probe.address, "SLEEP_S": "0.2"}},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="esm-maxconc")
        url, arn = queue(sqs, "esm-maxconc")
        for start in range(0, 30, 10):
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, start + 10)],
            )
        mapping = lam.create_event_source_mapping(
            FunctionName="esm-maxconc",
            EventSourceArn=arn,
            BatchSize=1,
            ScalingConfig={"MaximumConcurrency": 2},
        )["UUID"]
        wait_for(lambda: probe.total >= 30 and probe.active == 0, "thirty invokes")
        wait_for(lambda: counts(sqs, url) == (0, 0), "the queue drained")
        assert probe.peak == 2  # it scaled up to the maximum, never past it
        assert sorted(json.loads(line)["body"] for line in probe.lines) == sorted(
            f"m{i}" for i in range(30)
        )
        lam.delete_event_source_mapping(UUID=mapping)
    finally:
        probe.close()


FIFO_HANDLER = """
import json, os, socket
NS = "host.lambent.internal"
HOST = NS if NS in open("/etc/hosts").read() else "127.0.0.1"
def handler(event, context):
    port = os.environ["PROBE"].rsplit(":", 1)[1]
    s = socket.create_connection((HOST, int(port)))
    failed, broken = [], set()
    for r in event["Records"]:
        group = r["attributes"]["MessageGroupId"]
        first = r["attributes"]["ApproximateReceiveCount"] == "1"
        if group in broken or (first and r["body"].endswith("-3")):
            broken.add(group)  # a failure fails the rest of its group (AWS's FIFO advice)
            failed.append({"itemIdentifier": r["messageId"]})
        else:
            s.sendall((r["body"] + "\\n").encode())
    s.close()
    return {"batchItemFailures": failed}
"""


def test_fifo_order_per_group_across_retries(server: ServerProcess, sqs: Any) -> None:
    from tests.integration.esm_probe import Probe

    probe = Probe()
    try:
        lam = server.client("lambda")
        lam.create_function(
            FunctionName="esm-fifo",
            Runtime="python3.12",
            Role=lambda_role(server, "esm-fifo"),
            Handler="app.handler",
            Code={"ZipFile": python_zip(FIFO_HANDLER)},
            Environment={"Variables": {"PROBE": probe.address}},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="esm-fifo")
        url, arn = queue(
            sqs,
            "esm-order.fifo",
            FifoQueue="true",
            ContentBasedDeduplication="true",
            VisibilityTimeout="1",
        )
        for i in range(8):  # interleaved: group g's i-th message
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": f"g{g}", "MessageBody": f"g{g}-{i}", "MessageGroupId": f"g{g}"}
                    for g in range(5)
                ],
            )
        mapping = lam.create_event_source_mapping(
            FunctionName="esm-fifo",
            EventSourceArn=arn,
            BatchSize=10,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )["UUID"]
        wait_for(lambda: counts(sqs, url) == (0, 0) and probe.active == 0, "the queue drained")
        by_group: dict[str, list[int]] = {}
        for line in probe.lines:
            group, index = line.split("-")
            by_group.setdefault(group, []).append(int(index))
        assert by_group == {f"g{g}": list(range(8)) for g in range(5)}
        lam.delete_event_source_mapping(UUID=mapping)
    finally:
        probe.close()


def test_sigkill_mid_drain_loses_nothing(tmp_path: Path) -> None:
    """The server is SIGKILLed while its poller drains; after a restart on the same data
    every message reaches the function at least once (duplicates counted, not failed)."""
    from tests.integration.esm_probe import HANDLER, Probe

    probe = Probe()
    data = tmp_path / "data"
    server = start_server(data, extra_args=["--sandbox", "process"])
    total = 200
    try:
        lam = server.client("lambda")
        lam.create_function(
            FunctionName="esm-kill",
            Runtime="python3.12",
            Role=lambda_role(server, "esm-kill"),
            Handler="app.handler",
            Code={"ZipFile": python_zip(HANDLER)},
            Environment={"Variables": {"PROBE": probe.address, "SLEEP_S": "0.01"}},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="esm-kill")
        sqs = server.client("sqs")
        url, arn = queue(sqs, "esm-kill", VisibilityTimeout="2")
        for start in range(0, total, 10):
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)],
            )
        lam.create_event_source_mapping(FunctionName="esm-kill", EventSourceArn=arn)
        wait_for(lambda: len(probe.lines) >= total // 4, "a quarter delivered")
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(30)
    finally:
        server.stop()
    again = start_server(data, extra_args=["--sandbox", "process"])
    try:
        sqs = again.client("sqs")
        url = sqs.get_queue_url(QueueName="esm-kill")["QueueUrl"]
        wait_for(
            lambda: len({json.loads(line)["body"] for line in probe.lines}) == total,
            "every message delivered",
        )
        wait_for(lambda: counts(sqs, url) == (0, 0), "the queue drained")
        bodies = [json.loads(line)["body"] for line in probe.lines]
        duplicates = len(bodies) - len(set(bodies))
        print(f"SIGKILL mid-drain: {total} messages, {duplicates} delivered twice")
        assert set(bodies) == {f"m{i}" for i in range(total)}
    finally:
        again.stop()
        probe.close()


def test_lambent_mappings_shows_each_mapping_and_its_counters(
    server: ServerProcess, sqs: Any
) -> None:
    import os
    import subprocess
    import sys

    fn = function(server, "esm-cli", ECHO)
    url, arn = queue(sqs, "esm-cli")
    lam = server.client("lambda")
    mapping = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn)["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    wait_for(lambda: mapping_stats(server, mapping).get("records") == 1, "one delivery")
    key, secret = server.credentials()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_REGION": "us-east-1",
    }
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "lambent"),
            "mappings",
            "--endpoint-url",
            server.endpoint,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:5] == ["UUID", "FUNCTION", "SOURCE", "STATE", "BATCH"]
    (line,) = [ln for ln in lines if ln.startswith(mapping)]
    assert line.split() == [mapping, "esm-cli", "esm-cli", "Enabled", "10", "1", "1", "0", "0", "0"]
    lam.delete_event_source_mapping(UUID=mapping)
