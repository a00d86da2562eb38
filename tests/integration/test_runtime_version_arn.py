"""The INIT_START line names the runtime version ARN that GetFunction's
RuntimeVersionConfig reports (issue 8 §1.14), as on Lambda."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role

APP = "def handler(event, context):\n    return 'ok'\n"


def init_start_line(logs: Any, group: str, within_s: float = 30.0) -> str:
    """The group's INIT_START line, once the log writer has flushed it (bounded wait)."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            events = logs.filter_log_events(logGroupName=group, filterPattern='"INIT_START"')
        except logs.exceptions.ResourceNotFoundException:
            events = {"events": []}  # the group is made with its first batch
        if events["events"]:
            return str(events["events"][0]["message"])
        assert time.monotonic() < deadline, f"no INIT_START in {group} within {within_s} s"
        time.sleep(0.1)


def test_init_start_names_the_runtime_version_arn_of_the_configuration(
    server: ServerProcess,
) -> None:
    lam: Any = server.client("lambda")
    lam.create_function(
        FunctionName="rv-arn",
        Runtime="python3.12",
        Role=lambda_role(server, "rv-arn"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="rv-arn")
    lam.invoke(FunctionName="rv-arn", Payload=b"{}")
    line = init_start_line(server.client("logs"), "/aws/lambda/rv-arn")
    found = re.fullmatch(r"INIT_START Runtime Version: \S+\tRuntime Version ARN: (\S+)\n?", line)
    assert found is not None, line
    config = lam.get_function_configuration(FunctionName="rv-arn")
    expected = config["RuntimeVersionConfig"]["RuntimeVersionArn"]
    assert re.fullmatch(r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}", expected)
    assert found.group(1) == expected
    got = lam.get_function(FunctionName="rv-arn")["Configuration"]["RuntimeVersionConfig"]
    assert got["RuntimeVersionArn"] == expected
