"""The template fork and SnapStart (issue 4 §4-§5), with Lambent's own Python bootstrap."""

from __future__ import annotations

import json

import pytest

from tests.sandbox.support import Harness, serve_one

pytestmark = pytest.mark.sandbox

APP = """
import os, random, time
INIT_PID = os.getpid()
INIT_UID = os.getuid()
STARTED = time.time()
print("init ran", flush=True)

def handler(event, context):
    with open("/proc/self/status") as fh:
        caps = [l.split()[1] for l in fh if l.startswith("CapEff")][0]
    return {"pid": os.getpid(), "uid": os.getuid(), "init_pid": INIT_PID,
            "init_uid": INIT_UID, "random": random.random(), "caps": caps,
            "request": context.aws_request_id, "event": event,
            "tmp": sorted(os.listdir("/tmp"))}
"""

SNAP_APP = (
    APP
    + """
from snapshot_restore_py import register_before_snapshot, register_after_restore
RESTORED = []

@register_before_snapshot
def before():
    print("before snapshot", flush=True)

@register_after_restore
def after():
    RESTORED.append(True)

_plain = handler

def handler(event, context):
    result = _plain(event, context)
    result["restored_hooks"] = len(RESTORED)
    return result
"""
)


def invoke(sandbox: Harness, env: object, event: object) -> dict[str, object]:
    inv = sandbox.run(serve_one(env, event))  # type: ignore[arg-type]
    assert inv.path.endswith("/response"), (inv.path, inv.response)
    parsed: dict[str, object] = json.loads(inv.response)
    return parsed


def test_template_fork_runs_init_in_every_environment(sandbox: Harness) -> None:
    tpl = sandbox.template(sandbox.code_dir({"app.py": APP}))
    assert tpl.snapstart_report is None
    first, second = sandbox.spawn(tpl), sandbox.spawn(tpl)
    try:
        a, b = invoke(sandbox, first, {"n": 1}), invoke(sandbox, second, {"n": 2})
        for got in (a, b):
            assert got["pid"] == 1 and got["init_pid"] == 1  # init ran in the environment
            assert got["uid"] == 993 and got["init_uid"] == 993
            assert got["caps"] == "0000000000000000"
        assert a["event"] == {"n": 1} and b["event"] == {"n": 2}
        assert a["random"] != b["random"]
        assert not first.restored
    finally:
        sandbox.destroy(first)
        sandbox.destroy(second)
        sandbox.run(tpl.close())


def test_snapstart_forks_after_init_and_reseeds(sandbox: Harness) -> None:
    tpl = sandbox.template(sandbox.code_dir({"app.py": SNAP_APP}), snapstart=True)
    report = tpl.snapstart_report
    assert report is not None and report.ok, report
    assert b"init ran" in report.output and b"before snapshot" in report.output
    envs = [sandbox.spawn(tpl) for _ in range(2)]
    try:
        results = [invoke(sandbox, env, {"i": i}) for i, env in enumerate(envs)]
        for env, got in zip(envs, results, strict=True):
            assert env.restored
            assert got["uid"] == 993 and got["init_uid"] == 993  # init ran unprivileged too
            assert got["caps"] == "0000000000000000"
            assert got["restored_hooks"] == 1
            assert got["pid"] == 1
        assert results[0]["random"] != results[1]["random"]  # reseeded after the fork
    finally:
        for env in envs:
            sandbox.destroy(env)
        sandbox.run(tpl.close())


def test_snapstart_init_failure_is_reported(sandbox: Harness) -> None:
    code = sandbox.code_dir({"app.py": "raise RuntimeError('init exploded')\n"})
    tpl = sandbox.template(code, snapstart=True)
    try:
        report = tpl.snapstart_report
        assert report is not None
        assert not report.ok
        assert report.error_type is not None
        assert "init exploded" in (report.error_message or "")
    finally:
        sandbox.run(tpl.close())


def test_template_survives_its_environments_and_close_leaves_them_running(
    sandbox: Harness,
) -> None:
    tpl = sandbox.template(sandbox.code_dir({"app.py": APP}))
    env = sandbox.spawn(tpl)
    sandbox.run(tpl.close())
    try:
        assert invoke(sandbox, env, {"after": "close"})["event"] == {"after": "close"}
    finally:
        sandbox.destroy(env)


ENV_APP = """
import os
def handler(event, context):
    return {"mark": os.environ.get("MARK"), "pid": os.getpid(), "uid": os.getuid()}
"""


def test_standby_fork_takes_the_environments_variables_and_limits(sandbox: Harness) -> None:
    import asyncio
    import time

    tpl = sandbox.template(sandbox.code_dir({"app.py": ENV_APP}), memory_mb=1024)

    async def standby_ready() -> None:
        deadline = time.monotonic() + 20
        while tpl.standby_count() < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    sandbox.run(standby_ready())
    assert tpl.standby_count() == 1
    parked = sandbox.spawn(tpl, memory_mb=256, env={"MARK": "first"})
    direct = sandbox.spawn(tpl, memory_mb=256, env={"MARK": "second"})  # pool now empty
    try:
        assert "standby" in parked.timings and "standby" not in direct.timings
        for env, mark in ((parked, "first"), (direct, "second")):
            got = invoke(sandbox, env, {})
            assert got == {"mark": mark, "pid": 1, "uid": 993}
            memory = [d for d in env.cgroup.dirs if (d / "memory.limit_in_bytes").exists()]
            if memory:
                assert (memory[0] / "memory.limit_in_bytes").read_text().strip() == str(256 << 20)
    finally:
        sandbox.destroy(parked)
        sandbox.destroy(direct)
        sandbox.run(tpl.close())
    assert tpl.standby_count() == 0


def test_a_closed_template_refuses_to_spawn(sandbox: Harness) -> None:
    from lambent.sandbox.namespaces.template import TemplateFailed

    tpl = sandbox.template(sandbox.code_dir({"app.py": ENV_APP}))
    sandbox.run(tpl.close())
    with pytest.raises(TemplateFailed):
        sandbox.spawn(tpl)


@pytest.mark.parametrize("snapstart", [False, True])
def test_pythonpath_is_honoured_in_the_environment(sandbox: Harness, snapstart: bool) -> None:
    code = sandbox.code_dir(
        {
            "app.py": "import provided_sdk\n"
            "def handler(e, c):\n    return {'v': provided_sdk.VERSION}\n",
            "vendor/provided_sdk.py": "VERSION = 'sdk-1'\n",
        }
    )
    tpl = sandbox.template(
        code, snapstart=snapstart, env={"PYTHONPATH": "/nowhere:/var/task/vendor"}
    )
    env = sandbox.spawn(tpl)
    try:
        assert invoke(sandbox, env, {}) == {"v": "sdk-1"}
    finally:
        sandbox.destroy(env)
        sandbox.run(tpl.close())


def test_an_images_runtime_directory_is_merged_below_lambents_runtime_client(
    sandbox: Harness,
) -> None:
    """The generic mechanism a runtime's SDK rides on (the JS SDK in node_modules): an
    image's runtime/ shows in /var/runtime, and Lambent's own files win where both have
    one."""
    import dataclasses
    import os

    from lambent.runtimes.images import MANIFEST
    from lambent.runtimes.registry import launch_for

    real = launch_for("python3.11")
    assert real.image is not None
    image = sandbox.work / "image-with-runtime"
    (image / "runtime" / "sdk_pkg").mkdir(parents=True)
    os.symlink(real.image / "lang", image / "lang")
    (image / MANIFEST).write_text("{}")
    (image / "runtime" / "sdk_pkg" / "__init__.py").write_text("NAME = 'from-image'\n")
    (image / "runtime" / "snapshot_restore_py.py").write_text("SHADOWED = True\n")
    for path in (image, image / "runtime", image / "runtime" / "sdk_pkg"):
        path.chmod(0o755)
    app = (
        "import sdk_pkg, snapshot_restore_py\n"
        "def handler(e, c):\n"
        "    return {'sdk': sdk_pkg.NAME, 'shadowed': hasattr(snapshot_restore_py, 'SHADOWED'),"
        " 'file': sdk_pkg.__file__}\n"
    )
    launch = dataclasses.replace(real, image=image)
    tpl = sandbox.template(sandbox.code_dir({"app.py": app}), launch=launch)
    env = sandbox.spawn(tpl)
    try:
        assert invoke(sandbox, env, {}) == {
            "sdk": "from-image",
            "shadowed": False,
            "file": "/var/runtime/sdk_pkg/__init__.py",
        }
    finally:
        sandbox.destroy(env)
        sandbox.run(tpl.close())
