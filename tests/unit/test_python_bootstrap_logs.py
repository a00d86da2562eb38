"""Lambent's Python bootstrap writes logs as AWS's Python runtime does: the text and JSON
formats, AWS_LAMBDA_LOG_LEVEL, print/stderr passthrough and the telemetry descriptor."""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path

from tests.fixtures.functions import python_zip
from tests.fixtures.runtime_process import running

TEXT_LINE = re.compile(r"^\[(\w+)\]\t(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t([^\t]*)\t(.*)$")

LOG_APP = """import logging, sys
logging.getLogger().warning("during init")
print("printed during init")

def handler(event, context):
    logger = logging.getLogger("my.module")
    logger.info("info is below the default level")
    logger.warning("first line\\nsecond line")
    logger.error("with %s", "args")
    print("printed", event)
    sys.stderr.write("to stderr\\n")
    return "ok"
"""


def test_text_log_format(tmp_path: Path) -> None:
    with running("python3.11", python_zip(LOG_APP), tmp_path, handler="app.handler") as (h, p):
        rid = h.submit({"k": 1})
        h.result(rid)
        out = p.wait_output("to stderr")
    lines = out.split("\n")
    parsed = [TEXT_LINE.match(line) for line in lines]
    init = parsed[0]
    assert init is not None and init.group(1, 3, 4) == ("WARNING", "", "during init")
    assert lines[1] == "printed during init"
    warning, error = parsed[2], parsed[3]
    assert warning is not None and warning.group(1, 3, 4) == (
        "WARNING",
        rid,
        "first line\rsecond line",
    )
    assert error is not None and error.group(1, 3, 4) == ("ERROR", rid, "with args")
    assert lines[4:] == ["printed {'k': 1}", "to stderr", ""]
    assert "info is below" not in out


def test_aws_lambda_log_level_sets_the_root_level(tmp_path: Path) -> None:
    code = python_zip(LOG_APP)
    with running(
        "python3.11",
        code,
        tmp_path,
        handler="app.handler",
        variables={"AWS_LAMBDA_LOG_LEVEL": "DEBUG"},
    ) as (h, p):
        h.invoke({})
        out = p.wait_output("to stderr")
    assert "\tinfo is below the default level" in out


def test_json_log_format(tmp_path: Path) -> None:
    code = python_zip(LOG_APP + "\ndef fails(event, context):\n    raise RuntimeError('x')\n")
    with running("python3.11", code, tmp_path, handler="app.handler", log_format="JSON") as (h, p):
        h.invoke({})
        rid = h.submit({})
        h.result(rid)
        out = p.wait_output("to stderr\n", timeout=10, count=2)  # both invocations
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    info = [r for r in records if r.get("message") == "info is below the default level"]
    assert info, out  # JSON format defaults AWS_LAMBDA_LOG_LEVEL to INFO
    record = next(r for r in records if r.get("message") == "with args" and r["requestId"] == rid)
    assert record["level"] == "ERROR"
    assert record["logger"] == "my.module"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["timestamp"])
    assert set(record) == {"timestamp", "level", "message", "logger", "requestId"}


def test_telemetry_fd_frames_each_record(tmp_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    try:
        with running(
            "python3.11",
            python_zip(LOG_APP),
            tmp_path,
            handler="app.handler",
            extra_env={"_LAMBDA_TELEMETRY_LOG_FD": str(write_fd)},
            pass_fds=(write_fd,),
        ) as (h, p):
            os.close(write_fd)
            write_fd = -1
            rid = h.submit({})
            h.result(rid)
            p.wait_output("to stderr")
        frames = _read_frames(read_fd)
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)
    messages = [(kind, msg) for kind, _, msg in frames]
    assert messages[0][0] == 0xA55A0003
    assert messages[0][1].endswith("\t\tduring init\n")
    assert (0xA55A0003, f"\t{rid}\tfirst line\nsecond line\n") in [
        (kind, msg[msg.index("\t", 12) :]) for kind, msg in messages
    ]
    assert all(stamp > 1_600_000_000_000_000 for _, stamp, _ in frames)


def _read_frames(fd: int) -> list[tuple[int, int, str]]:
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    frames = []
    while data:
        kind, length, stamp = struct.unpack(">IIQ", data[:16])
        frames.append((kind, stamp, data[16 : 16 + length].decode()))
        data = data[16 + length :]
    return frames
