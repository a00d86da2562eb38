"""The server's own logs: a real `lambent serve --log-format json --access-log`, each event
caused through boto3 as a user would, and the JSON line it must print on stderr, carrying
the request id the client saw."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.sandbox.support import require_sandbox
from tests.support import ServerProcess, http_get, lambda_role, start_server

APP = """
import sys, time

def handler(event, context):
    action = event.get("action")
    if action == "sleep":
        time.sleep(5)
    if action == "exit":
        sys.exit(3)
    if action == "raise":
        raise ValueError("boom")
    if action == "hog":
        hog = bytearray(300 * 1024 * 1024)
        hog[::4096] = b"x" * len(hog[::4096])
    return {"ok": True}
"""

BROKEN = "raise RuntimeError('broken at import')\n"

Line = dict[str, Any]


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("oplog"),
        extra_args=["--log-format", "json", "--access-log", "--async-retry-base", "0.2"],
        separate_stderr=True,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def role(srv: ServerProcess) -> str:
    return lambda_role(srv, "oplog")


def lines(srv: ServerProcess) -> list[Line]:
    """Every stderr line so far; each must be one JSON object."""
    return [json.loads(text) for text in list(srv.errors)]


def wait_line(srv: ServerProcess, match: Callable[[Line], bool], bound: float = 30) -> Line:
    """The first stderr line `match` accepts, waiting for it (bounded against a hang)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        for line in lines(srv):
            if match(line):
                return line
        time.sleep(0.02)
    raise AssertionError("no such line; stderr was:\n" + "\n".join(srv.errors))


def event(name: str, rid: str | None = None) -> Callable[[Line], bool]:
    return lambda line: line.get("event") == name and (rid is None or line.get("request_id") == rid)


def create(srv: ServerProcess, role: str, name: str, code: str = APP, **kw: Any) -> None:
    lam = srv.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip(code)},
        **kw,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)


def invoke(srv: ServerProcess, name: str, event: Any, **kw: Any) -> tuple[str, dict[str, Any]]:
    resp = srv.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event), **kw)
    return resp["ResponseMetadata"]["RequestId"], resp


def test_every_line_is_json_and_start_up_is_logged(srv: ServerProcess) -> None:
    started = wait_line(srv, event("server.started"))
    assert started["level"] == "INFO" and started["endpoint"] == srv.endpoint
    assert {"time", "level", "logger", "event", "message"} <= set(started)
    assert all(line["time"].endswith("Z") for line in lines(srv))


def test_signature_failure_names_the_key_never_the_secret(srv: ServerProcess) -> None:
    key, secret = srv.credentials()
    wrong = "x" * len(secret)
    lam = srv.client("lambda", keys=(key, wrong))
    with pytest.raises(ClientError) as err:
        lam.list_functions()
    rid = err.value.response["ResponseMetadata"]["RequestId"]
    line = wait_line(srv, event("auth.failed", rid))
    assert line["level"] == "WARNING"
    assert line["access_key_id"] == key
    assert line["code"] == "InvalidSignatureException"
    assert line["client"] == "127.0.0.1"
    assert not any(secret in text or wrong in text for text in srv.errors)


def test_throttle_and_its_access_line(srv: ServerProcess, role: str) -> None:
    create(srv, role, "op-throttled")
    srv.client("lambda").put_function_concurrency(
        FunctionName="op-throttled", ReservedConcurrentExecutions=0
    )
    with pytest.raises(ClientError) as err:
        invoke(srv, "op-throttled", {})
    rid = err.value.response["ResponseMetadata"]["RequestId"]
    line = wait_line(srv, event("invoke.throttled", rid))
    assert line["reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert line["function"] == "op-throttled"
    access = wait_line(srv, lambda x: x.get("event") == "http.request" and x["request_id"] == rid)
    assert access["status"] == 429
    assert access["method"] == "POST"
    assert access["path"] == "/2015-03-31/functions/op-throttled/invocations"
    assert access["operation"] == "Invoke" and access["service"] == "lambda"
    assert access["duration_ms"] >= 0 and access["bytes"] > 0


def test_access_lines_keep_signed_urls_out(srv: ServerProcess, role: str) -> None:
    create(srv, role, "op-access")
    got = srv.client("lambda").get_function(FunctionName="op-access")
    rid = got["ResponseMetadata"]["RequestId"]
    access = wait_line(srv, lambda x: x.get("event") == "http.request" and x["request_id"] == rid)
    assert (access["status"], access["operation"]) == (200, "GetFunction")
    # Code.Location's path is a signed download token; an S3 presigned URL carries its
    # signature in the query. Fetching either writes no part of the secret to the log.
    location = got["Code"]["Location"]
    assert http_get(location)[0] == 200
    token = location.rsplit("/", 1)[1]
    wait_line(srv, lambda x: x.get("path") == "/_lambent/code/[redacted]")
    s3 = srv.client("s3")
    s3.create_bucket(Bucket="op-bucket")
    s3.put_object(Bucket="op-bucket", Key="k.txt", Body=b"hello")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "op-bucket", "Key": "k.txt"})
    status, _ = http_get(url)  # (Lambent's S3 does not take query-string signatures yet)
    query = url.split("?", 1)[1]
    line = wait_line(
        srv,
        lambda x: (
            x.get("event") == "http.request"
            and x["path"] == "/op-bucket/k.txt"
            and x["method"] == "GET"
        ),
    )
    assert line["status"] == status
    for secret in [token, query, *query.split("&")]:
        assert not any(secret in text for text in srv.errors), secret


def test_timeout(srv: ServerProcess, role: str) -> None:
    create(srv, role, "op-timeout", Timeout=1)
    rid, resp = invoke(srv, "op-timeout", {"action": "sleep"})
    assert resp["FunctionError"] == "Unhandled"
    line = wait_line(srv, event("function.timeout", rid))
    assert line["level"] == "WARNING"
    assert line["function"].endswith(":function:op-timeout:$LATEST")
    assert line["timeout_s"] == 1.0


def test_runtime_exit(srv: ServerProcess, role: str) -> None:
    create(srv, role, "op-exit")
    rid, resp = invoke(srv, "op-exit", {"action": "exit"})
    assert resp["FunctionError"] == "Unhandled"
    line = wait_line(srv, event("function.runtime_exit", rid))
    assert line["error_type"] == "Runtime.ExitError"
    assert line["detail"] == "exit status 3"


def test_out_of_memory(srv: ServerProcess, role: str) -> None:
    require_sandbox()  # the memory limit is a cgroup's
    # 128 MB has 7% of a CPU: touching the pages takes seconds on a busy machine, so the
    # timeout only bounds a hang.
    create(srv, role, "op-oom", MemorySize=128, Timeout=60)
    rid, resp = invoke(srv, "op-oom", {"action": "hog"})
    assert json.loads(resp["Payload"].read())["errorType"] == "Runtime.OutOfMemory"
    line = wait_line(srv, event("function.oom", rid))
    assert line["error_type"] == "Runtime.OutOfMemory" and line["memory_mb"] == 128


def test_init_failure(srv: ServerProcess, role: str) -> None:
    create(srv, role, "op-broken", code=BROKEN)
    rid, resp = invoke(srv, "op-broken", {})
    assert resp["FunctionError"] == "Unhandled"
    # The init phase fails, then the suppressed init inside the invoke: that one has the id.
    line = wait_line(srv, event("function.init_failed", rid))
    assert line["status"] == "error" and line["error_type"] == "RuntimeError"
    assert line["function"].endswith(":function:op-broken:$LATEST")


def test_async_retries_then_discard_and_a_failed_destination(srv: ServerProcess, role: str) -> None:
    create(srv, role, "op-async")
    lam = srv.client("lambda")
    lam.put_function_event_invoke_config(FunctionName="op-async", MaximumRetryAttempts=1)
    resp = lam.invoke(
        FunctionName="op-async", InvocationType="Event", Payload=b'{"action":"raise"}'
    )
    rid = resp["ResponseMetadata"]["RequestId"]
    retry = wait_line(srv, event("async.retry", rid))
    assert retry["level"] == "WARNING" and retry["reason"] == "function-error"
    assert retry["attempts"] == 1
    discarded = wait_line(srv, event("async.discarded", rid))
    assert discarded["condition"] == "RetriesExhausted" and discarded["attempts"] == 2

    queue = "arn:aws:sqs:us-east-1:123456789012:nowhere"
    lam.put_function_event_invoke_config(
        FunctionName="op-async",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue}},
    )
    resp = lam.invoke(
        FunctionName="op-async", InvocationType="Event", Payload=b'{"action":"raise"}'
    )
    rid = resp["ResponseMetadata"]["RequestId"]
    failed = wait_line(srv, event("async.destination_failed", rid))
    assert failed["destination"] == queue and failed["kind"] == "destination"


def test_shutdown_is_logged(tmp_path_factory: pytest.TempPathFactory) -> None:
    server = start_server(
        tmp_path_factory.mktemp("oplog-stop"),
        extra_args=["--log-format", "json"],
        separate_stderr=True,
    )
    assert server.stop() == 0
    wait_line(server, event("server.stopped"))
    names = [line.get("event") for line in lines(server)]
    assert names.index("server.started") < names.index("server.stopping")
