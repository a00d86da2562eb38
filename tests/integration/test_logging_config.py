"""LoggingConfig end to end, through a real server with boto3: the JSON log format of the
Python and Node runtimes (AWS's field names), ApplicationLogLevel and SystemLogLevel
filtering as AWS filters, the `platform.*` records, a custom LogGroup, and the official
runtime clients' own JSON logging reaching the log group."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures.functions import aws_lambda_ric_zip, awslambdaric_zip, node_zip, python_zip
from tests.support import ServerProcess, lambda_role

STAMP = "2024-11-02T16:51:31.587Z"

PYTHON_APP = f"""
import json, logging, os, time

app = logging.getLogger("app")

def handler(event, context):
    print("plain print")
    app.debug("debug from app")
    app.info("info from app", extra={{"order": 7}})
    app.warning("careful")
    print(json.dumps({{"level": "DEBUG", "timestamp": "{STAMP}", "message": "structured debug"}}))
    print(json.dumps({{"level": "ERROR", "timestamp": "{STAMP}", "message": "structured error"}}))
    if event.get("raise"):
        raise ValueError("boom")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {{
        "group": context.log_group_name,
        "group_env": os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME"),
        "format": os.environ.get("AWS_LAMBDA_LOG_FORMAT"),
        "level": os.environ.get("AWS_LAMBDA_LOG_LEVEL"),
    }}
"""

NODE_APP = """
exports.handler = async (event, context) => {
  console.trace("trace from node");
  console.debug("debug from node");
  console.info("info from node");
  console.log("log from node", { n: 1 });
  console.warn("warn from node");
  console.error(new TypeError("bad type"));
  return { group: context.logGroupName };
};
"""


@pytest.fixture(scope="module")
def role(server: ServerProcess) -> str:
    return lambda_role(server, "logging-config")


def create(
    server: ServerProcess,
    role: str,
    name: str,
    code: bytes,
    logging_config: dict[str, str],
    runtime: str = "python3.12",
    handler: str = "app.handler",
    **kw: Any,
) -> None:
    lam = server.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=role,
        Handler=handler,
        Code={"ZipFile": code},
        LoggingConfig=logging_config,
        Timeout=kw.pop("Timeout", 30),
        **kw,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)


def invoke(server: ServerProcess, name: str, event: Any = None) -> tuple[str, Any]:
    resp = server.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event or {}))
    return resp["ResponseMetadata"]["RequestId"], json.loads(resp["Payload"].read())


def group_messages(
    server: ServerProcess, group: str, done: Callable[[list[str]], bool]
) -> list[str]:
    """Every message of the group (FilterLogEvents), once `done` holds of them; the log
    store flushes every 50 ms, so this waits on the event with a generous bound."""
    logs = server.client("logs")
    deadline = time.monotonic() + 20
    messages: list[str] = []
    while time.monotonic() < deadline:
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        messages = [e["message"] for e in events]
        if done(messages):
            return messages
        time.sleep(0.05)
    raise AssertionError(f"{group} never got what was waited for: {messages}")


def as_json(messages: list[str]) -> list[dict[str, Any]]:
    """The messages that are JSON objects, parsed."""
    out = []
    for message in messages:
        if message.startswith("{"):
            out.append(json.loads(message))
    return out


def reported(rid: str) -> Callable[[list[str]], bool]:
    return lambda messages: any(
        doc.get("type") == "platform.report" and doc["record"]["requestId"] == rid
        for doc in as_json(messages)
    )


def app_records(docs: list[dict[str, Any]], rid: str) -> list[dict[str, Any]]:
    """The application's JSON records of invocation `rid` (or with no request id at all:
    the structured lines the function printed itself)."""
    return [d for d in docs if "type" not in d and d.get("requestId", rid) == rid]


def test_python_json_format_and_the_default_levels(server: ServerProcess, role: str) -> None:
    create(server, role, "log-py-json", python_zip(PYTHON_APP), {"LogFormat": "JSON"})
    cfg = server.client("lambda").get_function_configuration(FunctionName="log-py-json")
    assert cfg["LoggingConfig"] == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "INFO",
        "LogGroup": "/aws/lambda/log-py-json",
    }
    rid, out = invoke(server, "log-py-json")
    assert out["format"] == "JSON" and out["level"] == "INFO"
    group = "/aws/lambda/log-py-json"
    messages = group_messages(server, group, reported(rid))
    docs = as_json(messages)
    # System records at INFO: initStart, start, report (no END; runtimeDone is DEBUG).
    platform = [d["type"] for d in docs if "type" in d]
    assert platform == ["platform.initStart", "platform.start", "platform.report"]
    assert not any(m.startswith(("START", "END", "REPORT")) for m in messages)
    report = docs[-1]["record"]
    assert report["requestId"] == rid and report["status"] == "success"
    assert set(report["metrics"]) == {
        "durationMs",
        "billedDurationMs",
        "memorySizeMB",
        "maxMemoryUsedMB",
        "initDurationMs",
    }
    # print() stays a plain line (INFO, kept); logging is JSON with AWS's field names;
    # DEBUG goes, whether from logging or a structured print.
    assert "plain print\n" in messages
    records = app_records(docs, rid)
    assert [r["message"] for r in records] == ["info from app", "careful", "structured error"]
    info = records[0]
    assert set(info) == {"timestamp", "level", "message", "logger", "requestId", "order"}
    assert (info["level"], info["logger"], info["order"]) == ("INFO", "app", 7)
    assert records[1]["level"] == "WARNING"

    rid, out = invoke(server, "log-py-json", {"raise": True})
    assert out["errorType"] == "ValueError"
    messages = group_messages(server, group, reported(rid))
    error = next(r for r in app_records(as_json(messages), rid) if "errorType" in r)
    assert error["level"] == "ERROR"
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "boom")
    assert isinstance(error["stackTrace"], list) and error["stackTrace"]

    # GetLogEvents returns the same records, and JSON filter patterns select by field.
    logs = server.client("logs")
    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]["logStreamName"]
    got = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
    assert [e["message"] for e in got["events"]] == messages
    errors = logs.filter_log_events(logGroupName=group, filterPattern='{ $.level = "ERROR" }')
    found = [json.loads(e["message"]) for e in errors["events"]]
    assert {d.get("message", d.get("errorMessage")) for d in found} == {"structured error", "boom"}
    reports = logs.filter_log_events(
        logGroupName=group, filterPattern='{ $.type = "platform.report" }'
    )
    assert len(reports["events"]) == 2


def test_application_log_level_warn_drops_info_and_prints(server: ServerProcess, role: str) -> None:
    config = {"LogFormat": "JSON", "ApplicationLogLevel": "WARN"}
    create(server, role, "log-py-warn", python_zip(PYTHON_APP), config)
    rid, out = invoke(server, "log-py-warn")
    assert out["level"] == "WARN"
    messages = group_messages(server, "/aws/lambda/log-py-warn", reported(rid))
    assert "plain print\n" not in messages  # a line without a level is INFO
    records = app_records(as_json(messages), rid)
    assert [r["message"] for r in records] == ["careful", "structured error"]


def test_debug_levels_show_debug_logs_and_debug_platform_records(
    server: ServerProcess, role: str
) -> None:
    config = {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG", "SystemLogLevel": "DEBUG"}
    create(server, role, "log-py-debug", python_zip(PYTHON_APP), config)
    rid, _ = invoke(server, "log-py-debug")
    docs = as_json(group_messages(server, "/aws/lambda/log-py-debug", reported(rid)))
    platform = [d["type"] for d in docs if "type" in d]
    assert platform == [
        "platform.initStart",
        "platform.initRuntimeDone",
        "platform.initReport",
        "platform.start",
        "platform.runtimeDone",
        "platform.report",
    ]
    done = next(d for d in docs if d.get("type") == "platform.runtimeDone")["record"]
    assert done["requestId"] == rid and done["status"] == "success"
    messages = [r["message"] for r in app_records(docs, rid)]
    assert messages[:2] == ["debug from app", "info from app"]
    assert "structured debug" in messages


def test_system_log_level_warn_shows_only_failures(server: ServerProcess, role: str) -> None:
    config = {"LogFormat": "JSON", "SystemLogLevel": "WARN"}
    create(server, role, "log-py-syswarn", python_zip(PYTHON_APP), config, Timeout=1)
    ok_rid, _ = invoke(server, "log-py-syswarn")
    slow_rid, out = invoke(server, "log-py-syswarn", {"sleep": 5})
    assert out["errorType"] == "Sandbox.Timedout"

    def timed_out(messages: list[str]) -> bool:
        return any(d.get("type") == "platform.runtimeDone" for d in as_json(messages))

    docs = as_json(group_messages(server, "/aws/lambda/log-py-syswarn", timed_out))
    platform = [d for d in docs if "type" in d]
    assert [d["type"] for d in platform] == ["platform.runtimeDone"]
    assert platform[0]["record"]["requestId"] == slow_rid
    assert platform[0]["record"]["status"] == "timeout"
    # The application's own records still come (ApplicationLogLevel is INFO).
    assert app_records(docs, ok_rid)


def test_node_json_format_console_methods_and_levels(server: ServerProcess, role: str) -> None:
    create(
        server,
        role,
        "log-node-json",
        node_zip(NODE_APP),
        {"LogFormat": "JSON"},
        runtime="nodejs20.x",
        handler="index.handler",
    )
    rid, _ = invoke(server, "log-node-json")
    docs = as_json(group_messages(server, "/aws/lambda/log-node-json", reported(rid)))
    records = app_records(docs, rid)
    assert [(r["level"], r["message"]) for r in records[:3]] == [
        ("INFO", "info from node"),
        ("INFO", "log from node { n: 1 }"),
        ("WARN", "warn from node"),
    ]
    for record in records:
        assert set(record) >= {"timestamp", "level", "requestId", "message"}
    error = records[3]
    assert error["level"] == "ERROR"
    assert error["message"]["errorType"] == "TypeError"
    assert error["message"]["errorMessage"] == "bad type"
    assert isinstance(error["message"]["stackTrace"], list)

    config = {"LogFormat": "JSON", "ApplicationLogLevel": "TRACE"}
    server.client("lambda").update_function_configuration(
        FunctionName="log-node-json", LoggingConfig=config
    )
    server.client("lambda").get_waiter("function_updated_v2").wait(FunctionName="log-node-json")
    rid, _ = invoke(server, "log-node-json")
    docs = as_json(group_messages(server, "/aws/lambda/log-node-json", reported(rid)))
    levels = [r["level"] for r in app_records(docs, rid)]
    assert levels == ["TRACE", "DEBUG", "INFO", "INFO", "WARN", "ERROR"]


def test_custom_log_group_is_where_logs_land(server: ServerProcess, role: str) -> None:
    config = {"LogFormat": "Text", "LogGroup": "/custom/shared-group"}
    create(server, role, "log-custom", python_zip(PYTHON_APP), config)
    rid, out = invoke(server, "log-custom")
    assert out["group"] == out["group_env"] == "/custom/shared-group"
    assert out["format"] is None and out["level"] is None  # the Text format sets neither

    def has_report(messages: list[str]) -> bool:
        return any(m.startswith(f"REPORT RequestId: {rid}") for m in messages)

    group_messages(server, "/custom/shared-group", has_report)
    logs = server.client("logs")
    names = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    assert "/aws/lambda/log-custom" not in names

    lam = server.client("lambda")
    lam.update_function_configuration(
        FunctionName="log-custom", LoggingConfig={"LogGroup": "/custom/moved"}
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName="log-custom")
    rid, out = invoke(server, "log-custom")
    assert out["group"] == "/custom/moved"
    group_messages(server, "/custom/moved", has_report)


def test_a_log_level_with_the_text_format_is_refused(server: ServerProcess, role: str) -> None:
    lam = server.client("lambda")
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as err:
        lam.create_function(
            FunctionName="log-refused",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": python_zip(PYTHON_APP)},
            LoggingConfig={"LogFormat": "Text", "ApplicationLogLevel": "DEBUG"},
        )
    assert "LogLevel is not supported when LogFormat is set to" in str(err.value)


OFFICIAL_PYTHON = """
import logging, os

def handler(event, context):
    logging.getLogger().debug("ric debug")
    logging.getLogger().info("ric info")
    logging.getLogger("app").warning("ric warning")
    return {"format": os.environ.get("AWS_LAMBDA_LOG_FORMAT"),
            "level": os.environ.get("AWS_LAMBDA_LOG_LEVEL")}
"""

OFFICIAL_NODE = """
exports.handler = async () => {
  console.debug("ric debug");
  console.info("ric info");
  console.warn("ric warning");
  return { format: process.env.AWS_LAMBDA_LOG_FORMAT, level: process.env.AWS_LAMBDA_LOG_LEVEL };
};
"""


@pytest.mark.parametrize(
    ("name", "code", "handler"),
    [
        ("log-awslambdaric", lambda: awslambdaric_zip(OFFICIAL_PYTHON), "app.handler"),
        ("log-aws-lambda-ric", lambda: aws_lambda_ric_zip(OFFICIAL_NODE), "index.handler"),
    ],
)
def test_official_clients_json_logging_reaches_the_group(
    server: ServerProcess, role: str, name: str, code: Callable[[], bytes], handler: str
) -> None:
    create(
        server,
        role,
        name,
        code(),
        {"LogFormat": "JSON", "ApplicationLogLevel": "INFO"},
        runtime="provided.al2023",
        handler=handler,
        MemorySize=512,
    )
    rid, out = invoke(server, name)
    assert out == {"format": "JSON", "level": "INFO"}
    docs = as_json(group_messages(server, f"/aws/lambda/{name}", reported(rid)))
    records = app_records(docs, rid)
    assert [r["message"] for r in records] == ["ric info", "ric warning"]
    assert records[0]["level"] == "INFO"
    assert records[1]["level"] in ("WARN", "WARNING")
