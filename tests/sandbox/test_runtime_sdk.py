"""The SDK a Python runtime provides is imported from bytecode (issue 8 §1.9).

Environments run with -B on a read-only /var/lang, so a runtime without bytecode for its
own version recompiles boto3 at every cold start (~9 s on 3.12/3.13 before the fix). A
function records, with an audit hook installed before anything else in its module, every
source compiled and every file opened while it imports boto3 in its init: nothing under
/var/lang may be compiled, and boto3's own bytecode must be what was read. Speed is
measured in bench/boto3_import.py, not here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from lambent.runtimes.registry import available_runtimes
from tests.fixtures.functions import python_zip
from tests.sandbox.support import require_sandbox
from tests.support import ServerProcess, lambda_role, start_server

pytestmark = pytest.mark.sandbox

PYTHONS = [r for r in available_runtimes() if r.startswith("python")]

APP = """
import sys

COMPILED, OPENED = [], []

def _audit(event, args):
    if event == "compile" and str(args[1]).startswith("/"):  # a file, not an exec'd string
        COMPILED.append(str(args[1]))
    elif event == "open" and isinstance(args[0], str):
        OPENED.append(args[0])

sys.addaudithook(_audit)
import boto3
import botocore.session
sys.audit("lambent.test.done")

def handler(event, context):
    import os
    site = os.path.dirname(os.path.dirname(boto3.__file__))
    try:
        with open(os.path.join(site, "boto3", "__pycache__", "new.pyc"), "wb"):
            writable = True
    except OSError as err:
        writable = type(err).__name__ + ":" + str(err.errno)
    return {
        "compiled": COMPILED,
        "opened": OPENED,
        "boto3": boto3.__file__,
        "cached": boto3.__cached__,
        "tag": sys.implementation.cache_tag,
        "writable": writable,
    }
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    require_sandbox()
    server = start_server(tmp_path_factory.mktemp("sdk"), extra_args=["--sandbox", "namespaces"])
    yield server
    server.stop()


def imported(srv: ServerProcess, runtime: str) -> dict[str, Any]:
    client = srv.client("lambda")
    name = f"sdk-{runtime.replace('.', '')}"
    client.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=lambda_role(srv, "sdk"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(APP)},
        MemorySize=1769,
        Timeout=120,
    )
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    response = client.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return dict(body)


@pytest.mark.parametrize("runtime", PYTHONS)
def test_boto3_is_imported_from_its_runtimes_bytecode(srv: ServerProcess, runtime: str) -> None:
    got = imported(srv, runtime)
    # Only the function's own code was compiled (Lambent's runtime client is the guest's
    # business): boto3, botocore and the standard library came from bytecode ...
    assert [f for f in got["compiled"] if not f.startswith(("/var/task/", "/var/runtime/"))] == []
    minor = runtime.removeprefix("python")
    tag = got["tag"]
    assert tag == f"cpython-{minor.replace('.', '')}"
    site = f"/var/lang/lib/python{minor}/site-packages/"
    assert got["boto3"] == f"{site}boto3/__init__.py"
    # ... and that bytecode is this version's, read from the read-only SDK tree.
    assert got["cached"] == f"{site}boto3/__pycache__/__init__.{tag}.pyc"
    pycs = [f for f in got["opened"] if f.startswith(site) and f.endswith(f".{tag}.pyc")]
    assert f"{site}boto3/__pycache__/__init__.{tag}.pyc" in pycs
    assert len(pycs) > 50  # boto3 and botocore: a few hundred modules
    assert got["writable"] == "OSError:30"  # EROFS: no runtime could cache there itself
