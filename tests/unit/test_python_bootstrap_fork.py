"""The contract the zygote relies on: build a PythonRuntime, fork, `refresh_environ` in the
child, then `init()` and `run()` - or, for SnapStart, `init()` in the template, the
before-snapshot hooks, fork, after-restore hooks in the child, `run()`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from lambent.runtimes.environment import version_environment
from lambent.runtimes.registry import guest_dir, launch_for
from lambent.sandbox.process import path_map
from tests.fixtures.runtime_api import RuntimeApiHarness

DRIVER = r"""
import json, os, signal, sys
config = json.loads(sys.argv[1])
sys.path.insert(0, config["guest"])
from lambent_guest.bootstrap import PythonRuntime
import snapshot_restore_py

runtime = PythonRuntime()
if config["snapstart"]:
    outcome = runtime.init()
    if not outcome.ok:
        sys.exit(f"template init failed: {outcome.error}")
    snapshot_restore_py.run_before_snapshot()
pid = os.fork()
if pid == 0:
    runtime.refresh_environ(config["child_env"])
    if config["snapstart"]:
        snapshot_restore_py.run_after_restore()
    else:
        runtime.init()
    runtime.run()
signal.signal(signal.SIGTERM, lambda *_: (os.kill(pid, signal.SIGKILL), sys.exit(143)))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""

APP = """import logging, os
from snapshot_restore_py import register_after_restore, register_before_snapshot

state = {"init_pid": os.getpid(), "hooks": []}

@register_before_snapshot
def before():
    state["hooks"].append("before")

@register_after_restore
def after():
    state["hooks"].append("after")

def handler(event, context):
    logging.warning("from the handler")
    return {"init_pid": state["init_pid"], "pid": os.getpid(), "hooks": state["hooks"],
            "stream": context.log_stream_name, "key": os.environ.get("AWS_ACCESS_KEY_ID")}
"""


def _map(value: str, pairs: list[tuple[str, str]]) -> str:
    for inside, outside in pairs:
        value = value.replace(inside, outside)
    return value


@pytest.mark.parametrize("snapstart", [False, True], ids=["on-demand", "snapstart"])
def test_fork_then_refresh_environ(snapstart: bool, tmp_path: Path) -> None:
    task = tmp_path / "task"
    task.mkdir()
    (task / "app.py").write_text(APP)
    launch = launch_for("python3.11")
    base = version_environment(
        launch=launch,
        function_name="fn",
        version="1",
        memory_mb=128,
        handler="app.handler",
        region="us-east-1",
        initialization_type="snap-start" if snapstart else "on-demand",
    )
    pairs = path_map(launch, task, guest_dir(), tmp_path / "no-layers")
    base = {k: _map(v, pairs) for k, v in base.items()}
    base["AWS_LAMBDA_LOG_STREAM_NAME"] = "template-stream"
    read_fd, write_fd = os.pipe()
    with RuntimeApiHarness() as harness:
        config = {
            "guest": str(guest_dir()),
            "snapstart": snapstart,
            "child_env": {
                "AWS_LAMBDA_RUNTIME_API": harness.address,
                "AWS_LAMBDA_LOG_STREAM_NAME": "child-stream",
                "AWS_ACCESS_KEY_ID": "ASIACHILD",
                "_LAMBDA_TELEMETRY_LOG_FD": str(write_fd),
            },
        }
        assert launch.interpreter is not None
        proc = subprocess.Popen(
            [_map(launch.interpreter, pairs), "-c", DRIVER, json.dumps(config)],
            env=base,
            cwd=task,
            pass_fds=(write_fd,),
        )
        os.close(write_fd)
        try:
            rid = harness.submit({})
            body = harness.result(rid).json()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    with os.fdopen(read_fd, "rb") as frames:
        telemetry = frames.read()
    # The environment's records go to its own telemetry descriptor, framed as AWS frames them.
    assert f"\t{rid}\tfrom the handler\n".encode() in telemetry
    assert body["pid"] != proc.pid
    assert body["stream"] == "child-stream"
    assert body["key"] == "ASIACHILD"
    if snapstart:
        assert body["init_pid"] == proc.pid  # init ran once, in the template
        assert body["hooks"] == ["before", "after"]
    else:
        assert body["init_pid"] == body["pid"]  # init ran in the environment itself
        assert body["hooks"] == []
