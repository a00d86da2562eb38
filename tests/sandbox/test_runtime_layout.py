"""What a function sees of the filesystem, through a real server (issue 8 §1.4).

A function deployed on every Python (and Node) runtime lists `/`, `/root`, `/home`, `/var`, the
server's checkout, its data dir and `/proc/1/root`. It must find Lambda's layout
(`/var/lang`, `/var/runtime`, `/var/task`, `/opt`, `/tmp`) and the read-only system paths
runtimes need (docs/SANDBOX.md lists them), and nothing of the host's own: no checkout,
no virtualenv, no pyenv, no data dir, under any name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambent.runtimes.registry import available_runtimes
from tests.fixtures.functions import node_zip, python_zip
from tests.sandbox.support import require_sandbox
from tests.support import REPO, ServerProcess, lambda_role, start_server

pytestmark = pytest.mark.sandbox

PYTHONS = [r for r in available_runtimes() if r.startswith("python")]
NODES = [r for r in available_runtimes() if r.startswith("nodejs")]

PROBE = """
import os, sys

def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as err:
        return type(err).__name__

def handler(event, context):
    import boto3
    paths = ["/", "/root", "/home", "/var", "/opt", "/proc/1/root", *event["paths"]]
    files = sorted({
        getattr(m, "__file__", None) or "" for m in list(sys.modules.values())
    } - {""})
    return {
        "list": {p: listing(p) for p in paths},
        "executable": sys.executable,
        "prefix": sys.prefix,
        "path": sys.path,
        "boto3": boto3.__file__,
        "module_files": files,
        "environ": dict(os.environ),
    }
"""

NODE_PROBE = """
const fs = require("node:fs");
const listing = (p) => { try { return fs.readdirSync(p).sort(); } catch (e) { return e.code; } };
exports.handler = async (event) => {
  const paths = ["/", "/root", "/home", "/var", "/opt", "/proc/1/root", ...event.paths];
  return {
    list: Object.fromEntries(paths.map((p) => [p, listing(p)])),
    executable: process.execPath,
    sdk: require.resolve("@aws-sdk/client-lambda"),
    environ: process.env,
  };
};
"""

# The top level of every environment's root: Lambda's directories and the read-only system
# paths (the host's merged-usr links are recreated as links).
ROOT_ENTRIES = {
    "bin",
    "dev",
    "etc",
    "home",
    "lib",
    "lib64",
    "opt",
    "proc",
    "root",
    "sbin",
    "tmp",
    "usr",
    "var",
}
# Where a module of a Python function's process may come from.
MODULE_ROOTS = ("/var/lang/", "/var/runtime/", "/var/task/")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    require_sandbox()
    server = start_server(tmp_path_factory.mktemp("layout"), extra_args=["--sandbox", "namespaces"])
    yield server
    server.stop()


def probe(srv: ServerProcess, runtime: str) -> dict[str, Any]:
    client = srv.client("lambda")
    name = f"layout-{runtime.replace('.', '')}"
    python = runtime.startswith("python")
    client.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=lambda_role(srv, "layout"),
        Handler="app.handler" if python else "index.handler",
        Code={"ZipFile": python_zip(PROBE) if python else node_zip(NODE_PROBE)},
        MemorySize=512,
        Timeout=60,
    )
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    checkout = str(REPO)
    data = str(Path(srv.data_dir).resolve())
    home = os.path.expanduser("~")
    paths = [checkout, os.path.dirname(checkout), data, home, f"{home}/.pyenv"]
    response = client.invoke(FunctionName=name, Payload=json.dumps({"paths": paths}))
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    body["paths"] = {"checkout": checkout, "data": data, "home": home}
    return dict(body)


@pytest.mark.parametrize("runtime", PYTHONS)
def test_a_python_function_sees_lambdas_layout_and_no_host_directory(
    srv: ServerProcess, runtime: str
) -> None:
    got = probe(srv, runtime)
    assert_no_host_directory(got, "FileNotFoundError")
    # The interpreter, its standard library and boto3 are where Lambda has them.
    minor = runtime.removeprefix("python")
    assert got["executable"] == f"/var/lang/bin/python{minor}"
    assert got["prefix"] == "/var/lang"
    assert got["boto3"].startswith((f"/var/lang/lib/python{minor}/site-packages/", "/var/runtime/"))
    elsewhere = [f for f in got["module_files"] if not f.startswith(MODULE_ROOTS)]
    assert elsewhere == []
    # No host path leaks through the search paths or the variables either.
    assert_no_host_path_in(got, [*got["path"], *got["environ"].values()])


@pytest.mark.parametrize("runtime", NODES)
def test_a_node_function_sees_lambdas_layout_too(srv: ServerProcess, runtime: str) -> None:
    got = probe(srv, runtime)
    assert_no_host_directory(got, "ENOENT")
    assert got["executable"] == "/var/lang/bin/node"
    assert got["sdk"].startswith("/var/runtime/node_modules/@aws-sdk/client-lambda/")
    assert_no_host_path_in(got, list(got["environ"].values()))


def assert_no_host_directory(got: dict[str, Any], missing: str) -> None:
    listed = got["list"]
    where = got["paths"]
    assert set(listed["/"]) <= ROOT_ENTRIES | {"lib32", "libx32", "lambda-entrypoint.sh"}
    assert listed["/proc/1/root"] == listed["/"]
    assert listed["/root"] == []
    assert listed["/home"] == ["sbx_user1051"]
    assert listed["/var"] == ["lang", "runtime", "task"]
    assert listed["/opt"] == []
    for host in (where["checkout"], where["data"], f"{where['home']}/.pyenv"):
        assert listed[host] == missing, (host, listed[host])


def assert_no_host_path_in(got: dict[str, Any], texts: list[str]) -> None:
    where = got["paths"]
    for host in (where["checkout"], where["data"], "/root/", "/usr/lib/python3", ".venv"):
        assert not [t for t in texts if host in t], host
