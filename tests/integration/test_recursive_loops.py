"""Recursive loop detection through a real server and real functions (issue 8 §2).

A Python function invokes itself with plain boto3 (Lambent sets AWS_ENDPOINT_URL; boto3
sends the invocation's `_X_AMZN_TRACE_ID` as `X-Amzn-Trace-Id`), asynchronously and
synchronously; two functions loop through each other's OnSuccess destinations. With the
default recursion config (Terminate) each chain stops at the 17th invocation of a function,
as AWS documents: the function ran 16 times, the stop is one operator log line with its
request id, and `/_lambent/stats` counts it in `RecursiveInvocationsDropped`. A synchronous
caller gets RecursiveInvocationException. With Allow the loop runs on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambent.invoke.lineage import resource_id
from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, http_get, lambda_role, start_server

APP = """
import json
import boto3
from botocore.config import Config

lam = boto3.client("lambda", config=Config(retries={"max_attempts": 0}, read_timeout=120))

def handler(event, context):
    event = event.get("responsePayload", event)  # a destination's record carries the result
    n = int(event.get("n", 0)) + 1
    print(f"HOP {n}")
    mode = event.get("mode")
    if mode == "async" and n < int(event.get("stop", 1000)):
        lam.invoke(
            FunctionName=context.function_name,
            InvocationType="Event",
            Payload=json.dumps({"n": n, "mode": mode, "stop": event.get("stop", 1000)}),
        )
    if mode == "sync":
        try:
            again = json.dumps(event | {"n": n})
            out = lam.invoke(FunctionName=context.function_name, Payload=again)
            return json.loads(out["Payload"].read())
        except lam.exceptions.ClientError as exc:
            return {"stopped_after": n, "code": exc.response["Error"]["Code"]}
    return {"n": n, "mode": mode}
"""

HOPS = 16  # AWS: a function invoked ~16 times in one chain is stopped at the next


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("loops"),
        extra_args=["--log-format", "json"],
        separate_stderr=True,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lam(srv: ServerProcess) -> Any:
    return srv.client("lambda")


def deploy(srv: ServerProcess, lam: Any, name: str) -> str:
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=lambda_role(srv, "loops"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
        Timeout=120,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return str(lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"])


def dropped(srv: ServerProcess) -> int:
    status, body = http_get(srv.endpoint + "/_lambent/stats")
    assert status == 200
    return int(json.loads(body)["recursion"]["RecursiveInvocationsDropped"])


def wait_for(what: Callable[[], bool], bound_s: float = 120) -> None:
    """Polls an observable condition; the bound only catches a hang."""
    deadline = time.monotonic() + bound_s
    while not what():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.2)


def hops(srv: ServerProcess, name: str) -> list[int]:
    logs = srv.client("logs")
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern="HOP")
    except logs.exceptions.ResourceNotFoundException:
        return []
    found: list[int] = []
    for e in events["events"]:
        found.extend(int(w) for w in e["message"].split("HOP ")[1:2])
    return sorted(found)


def stops(srv: ServerProcess, function_arn: str) -> list[dict[str, Any]]:
    lines = [json.loads(text) for text in list(srv.errors) if text.startswith("{")]
    return [
        line
        for line in lines
        if line.get("event") == "recursion.stopped" and line["function"].startswith(function_arn)
    ]


def test_a_function_invoking_itself_asynchronously_is_stopped_after_16(
    srv: ServerProcess, lam: Any
) -> None:
    arn = deploy(srv, lam, "loop-async")
    before = dropped(srv)
    lam.invoke(FunctionName="loop-async", InvocationType="Event", Payload=b'{"mode": "async"}')
    wait_for(lambda: dropped(srv) == before + 1)
    wait_for(lambda: len(hops(srv, "loop-async")) >= HOPS)
    assert hops(srv, "loop-async") == list(range(1, HOPS + 1))
    (line,) = stops(srv, arn)
    assert line["request_id"] and line["count"] == HOPS
    assert line["level"] == "WARNING"


def test_a_loop_through_destinations_is_stopped_after_16(srv: ServerProcess, lam: Any) -> None:
    a = deploy(srv, lam, "loop-dest-a")
    b = deploy(srv, lam, "loop-dest-b")
    for source, target in ((a, b), (b, a)):
        lam.put_function_event_invoke_config(
            FunctionName=source, DestinationConfig={"OnSuccess": {"Destination": target}}
        )
    before = dropped(srv)
    lam.invoke(FunctionName="loop-dest-a", InvocationType="Event", Payload=b"{}")
    wait_for(lambda: dropped(srv) == before + 1)
    wait_for(lambda: len(hops(srv, "loop-dest-b")) >= HOPS)
    assert len(hops(srv, "loop-dest-a")) == HOPS
    assert len(hops(srv, "loop-dest-b")) == HOPS
    assert len(stops(srv, a)) == 1


def test_a_synchronous_self_invoke_chain_gets_recursive_invocation_exception(
    srv: ServerProcess, lam: Any
) -> None:
    deploy(srv, lam, "loop-sync")
    before = dropped(srv)
    out = lam.invoke(FunctionName="loop-sync", Payload=b'{"mode": "sync"}')
    assert json.loads(out["Payload"].read()) == {
        "stopped_after": HOPS,
        "code": "RecursiveInvocationException",
    }
    assert dropped(srv) == before + 1


def test_a_caller_carrying_a_chain_of_16_gets_aws_error(srv: ServerProcess, lam: Any) -> None:
    arn = deploy(srv, lam, "loop-header")
    header = f"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0;Lineage={resource_id(arn)}:16"

    def add_trace(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = header

    lam.meta.events.register("before-sign.lambda.Invoke", add_trace)
    try:
        with pytest.raises(ClientError) as exc:
            lam.invoke(FunctionName="loop-header", Payload=b"{}")
    finally:
        lam.meta.events.unregister("before-sign.lambda.Invoke", add_trace)
    err = exc.value.response
    assert err["Error"]["Code"] == "RecursiveInvocationException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["Error"]["Message"].startswith("Lambda has detected your function being invoked")
    request_id = err["ResponseMetadata"]["RequestId"]
    wait_for(lambda: any(line["request_id"] == request_id for line in stops(srv, arn)))


def test_allow_lets_the_loop_run_on(srv: ServerProcess, lam: Any) -> None:
    deploy(srv, lam, "loop-allowed")
    lam.put_function_recursion_config(FunctionName="loop-allowed", RecursiveLoop="Allow")
    before = dropped(srv)
    lam.invoke(
        FunctionName="loop-allowed",
        InvocationType="Event",
        Payload=json.dumps({"mode": "async", "stop": HOPS + 4}).encode(),
    )
    wait_for(lambda: len(hops(srv, "loop-allowed")) >= HOPS + 4)
    assert hops(srv, "loop-allowed") == list(range(1, HOPS + 5))
    assert dropped(srv) == before
