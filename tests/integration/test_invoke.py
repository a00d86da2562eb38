"""Invoke through boto3 against a real server: results, AWS's error shapes, reuse, logs."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.fixtures.functions import files_zip
from tests.support import ServerProcess, http_get, lambda_role

APP = """
import json, os, sys, time
count = 0

def handler(event, context):
    global count
    count += 1
    started = time.time()
    action = event.get("action") if isinstance(event, dict) else None
    print(f"invocation {count} action={action}")
    if action == "raise":
        raise ValueError("boom")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "barrier":  # wait until the test has seen every invocation arrive
        import socket, urllib.parse
        host = urllib.parse.urlsplit(os.environ["AWS_ENDPOINT_URL"]).hostname
        with socket.create_connection((host, event["port"]), timeout=event["timeout"]) as s:
            s.sendall(b"here")
            assert s.recv(2) == b"go"
    if action == "exit":
        sys.exit(event["code"])
    if action == "big":
        return "x" * event["size"]
    cc = context.client_context
    return {
        "event": event,
        "count": count,
        "pid": os.getpid(),
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "client_custom": cc.custom if cc else None,
        "span": [started, time.time()],
        "env": {k: os.environ.get(k) for k in (
            "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "_HANDLER", "LAMBDA_TASK_ROOT",
            "AWS_LAMBDA_RUNTIME_API", "AWS_EXECUTION_ENV", "AWS_ACCESS_KEY_ID",
            "AWS_SESSION_TOKEN")},
    }
"""


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "invoke-role")


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


def create(
    lam: Any,
    role: str,
    name: str,
    *,
    files: dict[str, str] | None = None,
    timeout: int = 3,
    handler: str = "app.handler",
    **extra: Any,
) -> dict[str, Any]:
    out = lam.create_function(
        FunctionName=name,
        Runtime=extra.pop("Runtime", "python3.11"),
        Role=role,
        Handler=handler,
        Code={"ZipFile": files_zip(files or {"app.py": APP})},
        Timeout=timeout,
        **extra,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return dict(out)


def invoke(lam: Any, name: str, event: Any, **kw: Any) -> tuple[dict[str, Any], Any]:
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event), **kw)
    body = resp["Payload"].read()
    return resp, json.loads(body) if body else None


@pytest.fixture(scope="module")
def fn(lam: Any, role: str) -> Iterator[str]:
    create(lam, role, "echo")
    yield "echo"


def test_returns_event_and_context(lam: Any, fn: str, server: ServerProcess) -> None:
    ctx = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    resp, body = invoke(lam, fn, {"hello": "world"}, ClientContext=ctx)
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    assert body["event"] == {"hello": "world"}
    assert body["aws_request_id"] == resp["ResponseMetadata"]["RequestId"]
    assert body["function_name"] == fn
    assert body["function_version"] == "$LATEST"
    assert (
        body["invoked_function_arn"] == f"arn:aws:lambda:us-east-1:{_account(server)}:function:{fn}"
    )
    assert str(body["memory_limit_in_mb"]) == "128"
    assert 0 < body["remaining"] <= 3000
    assert body["log_group_name"] == f"/aws/lambda/{fn}"
    assert body["log_stream_name"].endswith(body["log_stream_name"][-32:])
    assert "/[$LATEST]" in body["log_stream_name"]
    assert body["client_custom"] == {"k": "v"}
    env = body["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == fn and env["_HANDLER"] == "app.handler"
    assert env["AWS_REGION"] == "us-east-1" and env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and env["AWS_SESSION_TOKEN"]


def _account(server: ServerProcess) -> str:
    sts = server.client("sts")
    return str(sts.get_caller_identity()["Account"])


def test_handler_exception_shape(lam: Any, fn: str) -> None:
    resp, body = invoke(lam, fn, {"action": "raise"})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "boom"
    assert body["requestId"] == resp["ResponseMetadata"]["RequestId"]
    assert isinstance(body["stackTrace"], list) and body["stackTrace"]


def test_timeout_shape(lam: Any, role: str) -> None:
    create(lam, role, "sleepy", timeout=1)
    resp, body = invoke(lam, "sleepy", {"action": "sleep", "seconds": 5})
    rid = resp["ResponseMetadata"]["RequestId"]
    assert resp["FunctionError"] == "Unhandled"
    assert body == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds",
    }
    # The environment was reset; the next invoke runs init again and succeeds.
    resp, body = invoke(lam, "sleepy", {"n": 1})
    assert "FunctionError" not in resp and body["count"] == 1


def test_exit_shape(lam: Any, fn: str) -> None:
    resp, body = invoke(lam, fn, {"action": "exit", "code": 3})
    rid = resp["ResponseMetadata"]["RequestId"]
    assert resp["FunctionError"] == "Unhandled"
    assert body == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3",
    }


def test_missing_module_shape(lam: Any, role: str) -> None:
    create(lam, role, "nomodule", handler="missing.handler")
    resp, body = invoke(lam, "nomodule", {})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'missing': No module named 'missing'"


def test_missing_handler_shape(lam: Any, role: str) -> None:
    create(lam, role, "nohandler", handler="app.nothere")
    resp, body = invoke(lam, "nohandler", {})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.HandlerNotFound"


def test_response_too_large_shape(lam: Any, fn: str) -> None:
    resp, body = invoke(lam, fn, {"action": "big", "size": 7_000_000})
    assert resp["FunctionError"] == "Unhandled"
    assert body == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
        "(6291556 bytes).",
    }


def test_request_too_large(lam: Any, fn: str) -> None:
    with pytest.raises(lam.exceptions.RequestTooLargeException):
        lam.invoke(FunctionName=fn, Payload=b'"' + b"x" * 6_300_000 + b'"')


def test_dry_run(lam: Any, fn: str) -> None:
    resp = lam.invoke(FunctionName=fn, InvocationType="DryRun")
    assert resp["StatusCode"] == 204


def test_tail_carries_report_lines(lam: Any, fn: str, server: ServerProcess) -> None:
    resp = lam.invoke(FunctionName=fn, Payload=b"{}", LogType="Tail")
    tail = base64.b64decode(resp["LogResult"]).decode()
    rid = resp["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {rid} Version: $LATEST" in tail
    assert f"END RequestId: {rid}" in tail
    report = next(line for line in tail.splitlines() if line.startswith("REPORT"))
    fields = report.split("\t")
    assert fields[0] == f"REPORT RequestId: {rid}"
    assert fields[1].startswith("Duration: ") and fields[1].endswith(" ms")
    assert fields[2].startswith("Billed Duration: ")
    assert fields[3] == "Memory Size: 128 MB"
    assert fields[4].startswith("Max Memory Used: ") and int(fields[4].split()[3]) > 0
    assert "invocation" in tail


def test_serial_invokes_reuse_one_environment(lam: Any, role: str) -> None:
    create(lam, role, "counter")
    counts = [invoke(lam, "counter", {})[1]["count"] for _ in range(20)]
    assert counts == list(range(1, 21))


def test_parallel_invokes_run_in_parallel(lam: Any, role: str, server: ServerProcess) -> None:
    """Ten invokes at once run in ten environments at once: each handler waits at a
    barrier the test lifts only when all ten have reached it (run one after another,
    the first would wait for the others forever, and time out)."""
    create(lam, role, "parallel", timeout=120)
    client = server.client("lambda", max_pool_connections=20)
    with socket.socket() as barrier, ThreadPoolExecutor(11) as pool:
        barrier.bind(("127.0.0.1", 0))
        barrier.listen(16)
        barrier.settimeout(110)
        event = {"action": "barrier", "port": barrier.getsockname()[1], "timeout": 100}

        def lift() -> int:
            arrived = [barrier.accept()[0] for _ in range(10)]
            for conn in arrived:
                with conn:
                    conn.sendall(b"go")
            return len(arrived)

        def one(_: int) -> dict[str, Any]:
            resp = client.invoke(FunctionName="parallel", Payload=json.dumps(event))
            return dict(json.loads(resp["Payload"].read()))

        lifted = pool.submit(lift)
        answers = list(pool.map(one, range(10)))
        assert lifted.result(timeout=120) == 10
    # Every environment's runtime is PID 1 of its own pid namespace: tell them apart by
    # their log stream, which names the environment.
    assert len({a["log_stream_name"] for a in answers}) == 10, answers


def test_versions_and_weighted_alias(lam: Any, role: str) -> None:
    create(lam, role, "weighted")
    v1 = lam.publish_version(FunctionName="weighted")["Version"]
    lam.update_function_code(
        FunctionName="weighted",
        ZipFile=files_zip({"app.py": APP.replace("count += 1", "count += 100")}),
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName="weighted")
    v2 = lam.publish_version(FunctionName="weighted")["Version"]
    lam.create_alias(
        FunctionName="weighted",
        Name="live",
        FunctionVersion=v1,
        RoutingConfig={"AdditionalVersionWeights": {v2: 0.5}},
    )
    seen = {invoke(lam, "weighted", {}, Qualifier="live")[0]["ExecutedVersion"] for _ in range(40)}
    assert seen == {v1, v2}
    resp, body = invoke(lam, "weighted", {}, Qualifier=v1)
    assert resp["ExecutedVersion"] == v1
    assert body["invoked_function_arn"].endswith(f":weighted:{v1}")


def test_update_retires_latest_environments(lam: Any, role: str) -> None:
    create(lam, role, "updated")
    first = invoke(lam, "updated", {})[1]["log_stream_name"]
    lam.update_function_configuration(FunctionName="updated", MemorySize=256)
    lam.get_waiter("function_updated_v2").wait(FunctionName="updated")
    _, body = invoke(lam, "updated", {})
    assert body["log_stream_name"] != first and str(body["memory_limit_in_mb"]) == "256"


TICKER = """
import collections, threading, time
ticks = collections.deque(maxlen=2000)

def spin():
    while True:
        ticks.append(time.time())
        time.sleep(0.01)

threading.Thread(target=spin, daemon=True).start()

def handler(event, context):
    time.sleep(0.05)  # lets the thread stamp once after a thaw
    return list(ticks)
"""


def test_idle_environments_are_frozen(lam: Any, role: str, server: ServerProcess) -> None:
    """Between invocations the environment is frozen: its background thread stops.

    The thread stamps the wall clock (shared with the host) every 10 ms; no stamp may
    fall inside the span in which the server reported the environment frozen. The
    assertion holds however slow the machine is: load can only remove ticks.
    """
    create(lam, role, "ticker", files={"app.py": TICKER})
    invoke(lam, "ticker", {})

    def frozen() -> bool:
        _, body = http_get(f"{server.endpoint}/_lambent/stats")
        mine = [
            counts
            for key, counts in json.loads(body)["environments_by_function"].items()
            if key.endswith("/ticker:$LATEST")
        ]
        return bool(mine) and mine[0]["frozen"] == mine[0]["total"] == 1

    deadline = time.monotonic() + 10
    while not frozen():
        assert time.monotonic() < deadline, "the idle environment was never frozen"
        time.sleep(0.02)
    frozen_from = time.time()
    # Not waiting for something to happen: showing that nothing does while frozen.
    time.sleep(0.5)
    assert frozen(), "the environment thawed with no invoke"
    frozen_until = time.time()
    stamps = invoke(lam, "ticker", {})[1]
    during = [t for t in stamps if frozen_from < t < frozen_until]
    assert not during, f"{len(during)} ticks while frozen"
    assert any(t >= frozen_until for t in stamps), "the thread did not resume on thaw"
