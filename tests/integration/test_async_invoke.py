"""Asynchronous invocation against a real server: acceptance, retries, destinations.

The server runs with --async-retry-base 0.5, so AWS's 1 min / 2 min retry delays
take 0.5 s / 1 s. Destination functions print what they receive and the tests read it
back through the Logs API, which works whatever the sandbox.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role, sqlite_files, start_server

RETRY_BASE_S = 0.5
SINK = """
import json

def handler(event, context):
    print("RECEIVED " + json.dumps({"id": context.aws_request_id, "event": event}))
"""
FAIL = """
def handler(event, context):
    raise ValueError("boom " + str(event.get("n")))
"""
ECHO = """
def handler(event, context):
    print("RAN " + context.aws_request_id)
    return {"echo": event}
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("async"),
        extra_args=["--async-retry-base", str(RETRY_BASE_S)],
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lam(srv: ServerProcess) -> Any:
    return srv.client("lambda")


@pytest.fixture(scope="module")
def logs(srv: ServerProcess) -> Any:
    return srv.client("logs")


@pytest.fixture(scope="module")
def role(srv: ServerProcess) -> str:
    return lambda_role(srv, "async-role")


@pytest.fixture
def create(lam: Any, role: str) -> Callable[..., str]:
    def make(name: str, source: str, **extra: Any) -> str:
        out = lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": python_zip(source)},
            Timeout=5,
            **extra,
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        return str(out["FunctionArn"])

    return make


def log_messages(logs: Any, name: str, marker: str) -> list[tuple[int, str]]:
    try:
        events = logs.filter_log_events(
            logGroupName=f"/aws/lambda/{name}", filterPattern=f'"{marker}"'
        )["events"]
    except ClientError as err:
        if err.response["Error"]["Code"] == "ResourceNotFoundException":
            return []
        raise
    return [(int(e["timestamp"]), str(e["message"])) for e in events]


def wait_for_logs(
    logs: Any, name: str, marker: str, count: int, timeout: float = 30.0
) -> list[tuple[int, str]]:
    """Poll the Logs API until `count` lines carry `marker` (there is no event to wait on)."""
    deadline = time.monotonic() + timeout
    while True:
        found = log_messages(logs, name, marker)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def received(logs: Any, sink: str, count: int = 1) -> list[dict[str, Any]]:
    lines = wait_for_logs(logs, sink, "RECEIVED", count)
    assert len(lines) == count, lines
    return [json.loads(msg.split("RECEIVED ", 1)[1]) for _, msg in lines]


def event_invoke(lam: Any, name: str, payload: Any, **kw: Any) -> dict[str, Any]:
    resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload), **kw)
    return dict(resp)


def test_event_invoke_answers_202_and_nothing_else(
    lam: Any, logs: Any, create: Callable[..., str]
) -> None:
    create("async-echo", ECHO)
    resp = event_invoke(lam, "async-echo", {"hello": "world"})
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert resp["StatusCode"] == 202
    assert resp["Payload"].read() == b""
    assert "FunctionError" not in resp and "ExecutedVersion" not in resp
    assert "x-amz-function-error" not in headers and "x-amz-executed-version" not in headers
    # The function runs later, under the request id the caller got.
    lines = wait_for_logs(logs, "async-echo", "RAN", 1)
    assert [msg.split()[1] for _, msg in lines] == [request_id]


def test_unknown_function_is_rejected_synchronously(lam: Any) -> None:
    with pytest.raises(ClientError) as info:
        event_invoke(lam, "no-such-function", {})
    err = info.value.response
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_payload_over_one_megabyte_is_413(lam: Any, create: Callable[..., str]) -> None:
    create("async-big", ECHO)
    limit = 1024 * 1024
    at_limit = '"' + "x" * (limit - 2) + '"'
    ok = lam.invoke(FunctionName="async-big", InvocationType="Event", Payload=at_limit)
    assert ok["StatusCode"] == 202
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="async-big", InvocationType="Event", Payload=at_limit + " ")
    err = info.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert err["Error"]["Code"] == "RequestEntityTooLargeException"
    assert err["Error"]["Message"] == (
        f"{limit + 1} byte payload is too large for the Event invocation type (limit {limit} bytes)"
    )


def test_failing_function_is_tried_three_times_and_on_failure_gets_the_record(
    lam: Any, logs: Any, create: Callable[..., str]
) -> None:
    """Acceptance: MaximumRetryAttempts 2 -> 3 attempts -> AWS's record on OnFailure."""
    create("async-fail", FAIL)
    sink_arn = create("async-fail-sink", SINK)
    lam.put_function_event_invoke_config(
        FunctionName="async-fail",
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": sink_arn}},
    )
    resp = event_invoke(lam, "async-fail", {"n": 7})
    request_id = resp["ResponseMetadata"]["RequestId"]

    (got,) = received(logs, "async-fail-sink")
    record = got["event"]
    fail_arn = lam.get_function(FunctionName="async-fail")["Configuration"]["FunctionArn"]
    assert set(record) == {
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    }
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": f"{fail_arn}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"n": 7}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "boom 7"
    assert got["id"] != request_id  # the destination is its own (async) invocation

    # Three attempts, one request id, spaced ~1 x base then ~2 x base apart.
    starts = sorted(wait_for_logs(logs, "async-fail", f"START RequestId: {request_id}", 3))
    assert len(starts) == 3
    gaps = [(b[0] - a[0]) / 1000 for a, b in itertools.pairwise(starts)]
    assert gaps[0] >= RETRY_BASE_S * 0.9 and gaps[1] >= 2 * RETRY_BASE_S * 0.9, gaps


def test_maximum_retry_attempts_zero_means_one_attempt(
    lam: Any, logs: Any, create: Callable[..., str]
) -> None:
    create("async-once", FAIL)
    sink_arn = create("async-once-sink", SINK)
    lam.put_function_event_invoke_config(
        FunctionName="async-once",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": sink_arn}},
    )
    event_invoke(lam, "async-once", {"n": 1})
    (got,) = received(logs, "async-once-sink")
    assert got["event"]["requestContext"]["approximateInvokeCount"] == 1
    assert got["event"]["requestContext"]["condition"] == "RetriesExhausted"


def test_on_success_destination_of_a_published_version(
    lam: Any, logs: Any, create: Callable[..., str]
) -> None:
    create("async-ok", ECHO)
    sink_arn = create("async-ok-sink", SINK)
    version = lam.publish_version(FunctionName="async-ok")["Version"]
    lam.put_function_event_invoke_config(
        FunctionName="async-ok",
        Qualifier=version,
        DestinationConfig={"OnSuccess": {"Destination": sink_arn}},
    )
    resp = event_invoke(lam, "async-ok", {"k": "v"}, Qualifier=version)
    (got,) = received(logs, "async-ok-sink")
    record = got["event"]
    ok_arn = lam.get_function(FunctionName="async-ok")["Configuration"]["FunctionArn"]
    assert record["requestContext"] == {
        "requestId": resp["ResponseMetadata"]["RequestId"],
        "functionArn": f"{ok_arn}:{version}",
        "condition": "Success",
        "approximateInvokeCount": 1,
    }
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": version}
    assert record["responsePayload"] == {"echo": {"k": "v"}}


def test_dead_letter_function_receives_the_original_event(
    lam: Any, logs: Any, create: Callable[..., str]
) -> None:
    dlq_arn = create("async-dlq", SINK)
    create("async-dlq-source", FAIL, DeadLetterConfig={"TargetArn": dlq_arn})
    lam.put_function_event_invoke_config(FunctionName="async-dlq-source", MaximumRetryAttempts=0)
    event_invoke(lam, "async-dlq-source", {"n": 3, "keep": ["as", "is"]})
    (got,) = received(logs, "async-dlq")
    assert got["event"] == {"n": 3, "keep": ["as", "is"]}


def test_a_deleted_destination_does_not_stop_delivery(
    lam: Any, logs: Any, create: Callable[..., str]
) -> None:
    create("async-orphan", FAIL)
    gone_arn = create("async-gone-sink", SINK)
    lam.put_function_event_invoke_config(
        FunctionName="async-orphan",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": gone_arn}},
    )
    lam.delete_function(FunctionName="async-gone-sink")
    event_invoke(lam, "async-orphan", {"n": 1})
    wait_for_logs(logs, "async-orphan", "START RequestId", 1)
    create("async-after", ECHO)
    resp = event_invoke(lam, "async-after", {})
    lines = wait_for_logs(logs, "async-after", "RAN", 1)
    assert [msg.split()[1] for _, msg in lines] == [resp["ResponseMetadata"]["RequestId"]]


def test_deprecated_invoke_async_queues_the_event(
    lam: Any, logs: Any, create: Callable[..., str]
) -> None:
    create("async-legacy", ECHO)
    resp = lam.invoke_async(FunctionName="async-legacy", InvokeArgs=b'{"legacy": true}')
    assert resp["Status"] == 202
    lines = wait_for_logs(logs, "async-legacy", "RAN", 1)
    assert [msg.split()[1] for _, msg in lines] == [resp["ResponseMetadata"]["RequestId"]]


@sqlite_files
def test_queue_file_lives_in_the_data_dir(srv: ServerProcess) -> None:
    assert (Path(srv.data_dir) / "queue.db").is_file()
