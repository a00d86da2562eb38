"""Templates are forks of their runtime's zygote (issue 8 §1.5): one zygote per runtime, the
version's own code and layers mounted per template, nothing of the host's paths inside."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from lambent.runtimes.registry import available_runtimes, launch_for
from tests.sandbox.support import Harness, serve_one

pytestmark = pytest.mark.sandbox

PROBE = """
import json, os, sys
def handler(event, context):
    def tries(path):
        try:
            open(path, "a").close()
            return "writable"
        except OSError as err:
            return err.strerror
    mods = sorted({os.path.dirname(getattr(m, "__file__", None) or "")
                   for n, m in list(sys.modules.items()) if n.startswith("lambent_guest")})
    return {
        "task": sorted(os.listdir("/var/task")),
        "opt": {n: open("/opt/" + n).read() for n in sorted(os.listdir("/opt"))},
        "task_write": tries("/var/task/new"),
        "opt_write": tries("/opt/new"),
        "guest_dirs": mods,
        "ppid": os.getppid(),
    }
"""


def invoke(sandbox: Harness, env: object) -> dict[str, object]:
    inv = sandbox.run(serve_one(env, {}))  # type: ignore[arg-type]
    assert inv.path.endswith("/response"), (inv.path, inv.response)
    parsed: dict[str, object] = json.loads(inv.response)
    return parsed


def layer(sandbox: Harness, files: dict[str, str]) -> Path:
    return sandbox.code_dir(files)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_each_template_mounts_its_own_code_and_layers_read_only(
    sandbox: Harness, count: int
) -> None:
    layers = tuple(
        layer(sandbox, {"shared.txt": f"layer {i}", f"only{i}.txt": str(i)}) for i in range(count)
    )
    code = sandbox.code_dir({"app.py": PROBE, f"mine{count}.txt": "x"})
    other = sandbox.template(sandbox.code_dir({"app.py": PROBE, "other.txt": "y"}))
    tpl = sandbox.template(code, layers=layers)
    env = sandbox.spawn(tpl)
    try:
        got = invoke(sandbox, env)
        assert got["task"] == sorted(["app.py", f"mine{count}.txt"])  # not the other's code
        opt = got["opt"]
        assert isinstance(opt, dict)
        if count:
            assert opt["shared.txt"] == f"layer {count - 1}"  # later layers win, as on Lambda
            assert {f"only{i}.txt" for i in range(count)} <= set(opt)
        else:
            assert opt == {}
        assert got["task_write"] == "Read-only file system"
        if count:
            assert got["opt_write"] == "Read-only file system"
        # Every guest module comes from /var/runtime: no host path of the checkout inside.
        assert got["guest_dirs"] == ["/var/runtime/lambent_guest"]
    finally:
        sandbox.destroy(env)
        sandbox.run(tpl.close())
        sandbox.run(other.close())


def test_templates_of_a_runtime_share_one_zygote(sandbox: Harness) -> None:
    zygotes = sandbox.sandbox.zygotes
    before = zygotes.started
    first = sandbox.template(sandbox.code_dir({"app.py": PROBE}))
    second = sandbox.template(sandbox.code_dir({"app.py": PROBE}))
    try:
        running = [z for z in zygotes.running() if z.key[0] == "/var/lang/bin/python3.11"]
        assert len(running) == 1
        assert zygotes.started - before <= 1  # at most the first template of the run
        # Each template is its own process (PID 1 of its own pid namespace), not the zygote.
        pids = {first.process_pid(), second.process_pid(), running[0].pid}
        assert None not in pids and len(pids) == 3
    finally:
        sandbox.run(first.close())
        sandbox.run(second.close())


def test_a_dead_zygote_is_started_again_and_its_templates_live_on(sandbox: Harness) -> None:
    tpl = sandbox.template(sandbox.code_dir({"app.py": PROBE}))
    zygote = next(z for z in sandbox.sandbox.zygotes.running() if z.key[1] == "python")
    assert zygote.pid is not None
    os.kill(zygote.pid, signal.SIGKILL)
    env = sandbox.spawn(tpl)  # the template did not depend on its zygote
    later = sandbox.template(sandbox.code_dir({"app.py": PROBE}))  # a new zygote forks it
    env2 = sandbox.spawn(later)
    try:
        assert invoke(sandbox, env)["task"] == ["app.py"]
        assert invoke(sandbox, env2)["task"] == ["app.py"]
        assert not zygote.alive()
    finally:
        sandbox.destroy(env)
        sandbox.destroy(env2)
        sandbox.run(tpl.close())
        sandbox.run(later.close())


@pytest.mark.parametrize("runtime", ["python3.12", "nodejs20.x"])
def test_other_runtimes_get_their_own_zygote(sandbox: Harness, runtime: str) -> None:
    if runtime not in available_runtimes():
        pytest.skip(f"{runtime} is not installed on this host")
    launch = launch_for(runtime)
    if runtime.startswith("nodejs"):
        code = {"index.mjs": "export const handler = async (e) => ({runtime: process.version});"}
        handler = "index.handler"
    else:
        code = {"app.py": "import sys\ndef handler(e, c):\n    return {'runtime': sys.version}\n"}
        handler = "app.handler"
    tpl = sandbox.template(sandbox.code_dir(code), launch=launch, handler=handler)
    env = sandbox.spawn(tpl)
    try:
        got = invoke(sandbox, env)
        assert isinstance(got["runtime"], str)
        keys = {z.key for z in sandbox.sandbox.zygotes.running()}
        assert any(k[1] == launch.kind and k[2] == str(launch.image) for k in keys)
    finally:
        sandbox.destroy(env)
        sandbox.run(tpl.close())
