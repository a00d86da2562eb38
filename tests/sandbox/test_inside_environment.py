"""The inside of an execution environment, as recorded on AWS (../shared/AWS-BEHAVIOURS.md
§9): the user, the working directory, who owns what with which mode, /lambda-entrypoint.sh,
and the resource limits, on-demand and under SnapStart; and that the process limit of one
environment is its own, even where environments share a uid (SnapStart).
"""

from __future__ import annotations

import json
import resource
from typing import Any

import pytest

from tests.sandbox.support import Harness, serve_one

pytestmark = pytest.mark.sandbox

PROBE = """
import getpass, json, os, pwd, resource, stat, subprocess

LIMITS = ("CORE", "MEMLOCK", "NPROC", "NOFILE", "STACK", "AS", "CPU", "DATA", "FSIZE", "RSS")

def describe(path):
    st = os.lstat(path)
    return {"mode": stat.filemode(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}

def handler(event, context):
    return {
        "whoami": subprocess.run(["whoami"], capture_output=True, text=True).stdout.strip(),
        "getuser": getpass.getuser(),
        "pwname": pwd.getpwuid(os.getuid()).pw_name,
        "cwd": os.getcwd(),
        "paths": {p: describe(p) for p in
                  ("/var/task", "/var/task/app.py", "/opt", "/tmp", "/lambda-entrypoint.sh")},
        "opt": sorted(os.listdir("/opt")),
        "limits": {n: resource.getrlimit(getattr(resource, "RLIMIT_" + n)) for n in LIMITS},
    }
"""

FORKS = """
import errno, os, time

def handler(event, context):
    held, error = [], None
    while len(held) < event["count"]:
        try:
            pid = os.fork()
        except OSError as err:
            error = errno.errorcode.get(err.errno, "?")
            break
        if pid == 0:
            time.sleep(120)
            os._exit(0)
        held.append(pid)
    if not event["hold"]:
        for pid in held:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    return {"forked": len(held), "error": error}
"""

UNLIMITED = resource.RLIM_INFINITY
# (soft, hard) as AWS reports them inside a Lambda function.
LAMBDA_LIMITS = {
    "CORE": [10737418240, 10737418240],
    "MEMLOCK": [65536, 65536],
    "NPROC": [742, 742],
    "NOFILE": [1024, 1024],
    "STACK": [8388608, UNLIMITED],
    "AS": [UNLIMITED, UNLIMITED],
    "CPU": [UNLIMITED, UNLIMITED],
    "DATA": [UNLIMITED, UNLIMITED],
    "FSIZE": [UNLIMITED, UNLIMITED],
    "RSS": [UNLIMITED, UNLIMITED],
}


def invoke(sandbox: Harness, env: object, event: object) -> dict[str, Any]:
    inv = sandbox.run(serve_one(env, event))  # type: ignore[arg-type]
    assert inv.path.endswith("/response"), (inv.path, inv.response)
    parsed: dict[str, Any] = json.loads(inv.response)
    return parsed


def probe(sandbox: Harness, *, snapstart: bool = False, layers: int = 0) -> dict[str, Any]:
    code = sandbox.code_dir({"app.py": PROBE})
    opt = tuple(sandbox.code_dir({f"layer{i}.txt": "x"}) for i in range(layers))
    tpl = sandbox.template(code, snapstart=snapstart, layers=opt)
    env = sandbox.spawn(tpl)
    try:
        return invoke(sandbox, env, {})
    finally:
        sandbox.destroy(env)
        sandbox.run(tpl.close())


def test_user_and_working_directory(sandbox: Harness) -> None:
    got = probe(sandbox)
    assert (got["whoami"], got["getuser"], got["pwname"]) == ("sbx_user1051",) * 3
    assert got["cwd"] == "/var/task"


@pytest.mark.parametrize("layers", [0, 1, 2])
def test_code_layers_tmp_and_entrypoint_are_owned_and_moded_as_on_lambda(
    sandbox: Harness, layers: int
) -> None:
    got = probe(sandbox, layers=layers)
    paths = got["paths"]
    root = {"uid": 0, "gid": 0}
    assert paths["/var/task"] == {"mode": "drwxr-xr-x", **root}
    assert paths["/var/task/app.py"] == {"mode": "-rw-r--r--", **root}
    assert paths["/opt"] == {"mode": "drwxr-xr-x", **root}
    assert got["opt"] == [f"layer{i}.txt" for i in range(layers)]
    assert paths["/lambda-entrypoint.sh"] == {"mode": "-rwxr-xr-x", **root}
    assert paths["/tmp"]["mode"] == "drwxrwxrwt"


@pytest.mark.parametrize("snapstart", [False, True], ids=["on-demand", "snapstart"])
def test_resource_limits_are_lambdas(sandbox: Harness, snapstart: bool) -> None:
    assert probe(sandbox, snapstart=snapstart)["limits"] == LAMBDA_LIMITS


@pytest.mark.parametrize("snapstart", [False, True], ids=["on-demand", "snapstart"])
def test_one_environment_cannot_take_the_process_count_of_another(
    sandbox: Harness, snapstart: bool
) -> None:
    """Two environments of one function (under SnapStart they share a uid): the first
    holds every process its limit allows, the second can still fork."""
    tpl = sandbox.template(sandbox.code_dir({"app.py": FORKS}), snapstart=snapstart)
    first, second = sandbox.spawn(tpl), sandbox.spawn(tpl)
    try:
        greedy = invoke(sandbox, first, {"count": 100_000, "hold": True})
        assert greedy["error"] == "EAGAIN" and 700 <= greedy["forked"] < 742
        assert invoke(sandbox, second, {"count": 100, "hold": False}) == {
            "forked": 100,
            "error": None,
        }
    finally:
        sandbox.destroy(first)
        sandbox.destroy(second)
        sandbox.run(tpl.close())


def test_the_entrypoint_names_this_runtime_and_wants_a_handler(sandbox: Harness) -> None:
    code = sandbox.code_dir(
        {
            "app.py": (
                "import subprocess\n"
                "def handler(e, c):\n"
                "    bare = subprocess.run(['/lambda-entrypoint.sh'], capture_output=True)\n"
                "    text = open('/lambda-entrypoint.sh').read()\n"
                "    return {'status': bare.returncode, 'exec': text.splitlines()[-1]}\n"
            )
        }
    )
    tpl = sandbox.template(code)
    env = sandbox.spawn(tpl)
    try:
        assert invoke(sandbox, env, {}) == {
            "status": 142,
            "exec": "exec /var/lang/bin/python3.11 /var/runtime/lambent_guest/bootstrap.py",
        }
    finally:
        sandbox.destroy(env)
        sandbox.run(tpl.close())
