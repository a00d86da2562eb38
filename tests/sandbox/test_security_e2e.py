"""The security suite end to end (issue 4 §6): each attack in tests/sandbox/attacks is
deployed as a real Lambda function on a real `lambent serve --sandbox namespaces` and
invoked through boto3. Every attempt must be contained, the server must stay healthy, and
a bystander function must keep answering.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.support import ATTACKS, require_sandbox, tcp_probe
from tests.support import ServerProcess, lambda_role, start_server

pytestmark = pytest.mark.sandbox

CANARY = "import os\ndef handler(event, context):\n    return {'ok': True, 'pid': os.getpid()}\n"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    require_sandbox()
    server = start_server(
        tmp_path_factory.mktemp("security"), extra_args=["--sandbox", "namespaces"]
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def role(srv: ServerProcess) -> str:
    return lambda_role(srv, "attacker")


def zipped(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def deploy(
    srv: ServerProcess, role: str, name: str, files: dict[str, str], handler: str, memory: int = 512
) -> None:
    client = srv.client("lambda")
    client.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler=handler,
        Code={"ZipFile": zipped(files)},
        MemorySize=memory,
        Timeout=60,
    )
    client.get_waiter("function_active_v2").wait(FunctionName=name)


def invoke(srv: ServerProcess, name: str, event: dict[str, Any]) -> tuple[str | None, Any]:
    response = srv.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event))
    return response.get("FunctionError"), json.loads(response["Payload"].read() or b"null")


@pytest.fixture(scope="module")
def canary(srv: ServerProcess, role: str) -> str:
    deploy(srv, role, "canary", {"app.py": CANARY}, "app.handler")
    return "canary"


def attack(
    srv: ServerProcess,
    role: str,
    canary: str,
    module: str,
    event: dict[str, Any],
    memory: int = 512,
) -> tuple[str | None, Any]:
    name = f"attack-{module.replace('_', '-')}"
    deploy(
        srv,
        role,
        name,
        {"attack.py": (ATTACKS / f"{module}.py").read_text()},
        "attack.handler",
        memory,
    )
    result = invoke(srv, name, event)
    # contained: the server is up and the bystander still answers
    assert srv.proc.poll() is None, "the server died"
    error, payload = invoke(srv, canary, {})
    assert error is None and payload["ok"] is True
    return result


def test_identity_and_syscalls(srv: ServerProcess, role: str, canary: str) -> None:
    error, got = attack(srv, role, canary, "identity", {})
    assert error is None, got
    assert (got["uid"], got["gid"]) == (993, 990)
    assert got["no_new_privs"] == "1" and got["seccomp"] == "2"
    assert set(got["caps"].values()) == {"0000000000000000"}
    error, got = attack(srv, role, canary, "syscalls", {})
    assert error is None, got
    assert {k: v for k, v in got["results"].items() if v != "EPERM"} == {}


def test_host_files_data_dir_and_code(srv: ServerProcess, role: str, canary: str) -> None:
    data = Path(srv.data_dir)
    probes = [str(p) for p in sorted(data.rglob("*"))[:40] if p.is_file()]
    event = {
        "read": [*probes, "/work/main/pyproject.toml"],
        "list": [str(data), "/root", "/var/lib"],
    }
    error, got = attack(srv, role, canary, "filesystem", event)
    assert error is None, got
    readable = [p for p, r in got["read"].items() if r == "read" and p != "/proc/1/environ"]
    assert readable == []
    assert got["list"][str(data)] == "FileNotFoundError"
    assert set(got["write"].values()) <= {"OSError", "PermissionError"}


def test_processes(srv: ServerProcess, role: str, canary: str) -> None:
    error, got = attack(srv, role, canary, "processes", {"targets": [srv.proc.pid, os.getpid()]})
    assert error is None, got
    assert got["visible"] == [1]
    assert all(v == "ESRCH" for v in got["signals"].values()), got["signals"]
    assert all(v in ("EPERM", "ESRCH") for v in got["ptrace"].values()), got["ptrace"]


def test_fork_bomb_fd_exhaustion_and_tmp_fill(srv: ServerProcess, role: str, canary: str) -> None:
    error, got = attack(srv, role, canary, "fork_bomb", {}, memory=1024)
    assert error is None, got
    assert got["error"] == "EAGAIN" and got["forked"] < 1024
    error, got = attack(srv, role, canary, "exhaust_fds", {})
    assert error is None, got
    assert got["error"] == "EMFILE" and got["opened"] < 1024
    error, got = attack(srv, role, canary, "fill_tmp", {"limit_mb": 4096}, memory=128)
    assert error is None, got
    assert got["error"] == "ENOSPC" and got["written_mb"] <= 512


def test_memory_bomb_is_out_of_memory_and_the_next_invoke_works(
    srv: ServerProcess, role: str, canary: str
) -> None:
    error, got = attack(srv, role, canary, "memory_bomb", {"mb": 300}, memory=128)
    assert error == "Unhandled"
    assert got["errorType"] == "Runtime.OutOfMemory", got
    error, got = invoke(srv, "attack-memory-bomb", {"mb": 10})
    assert error is None and got == {"allocated_mb": 10}


def test_network_reach(srv: ServerProcess, role: str, canary: str) -> None:
    event = {"timeout": 1.0, "neighbours": True}
    error, got = attack(srv, role, canary, "network", event)
    assert error is None, got
    assert all(v != "connected" for v in got["probes"].values()), got["probes"]
    if tcp_probe("127.0.0.1", 5432):
        assert got["postgres"] == "lambent-42"


def test_public_api_without_credentials(srv: ServerProcess, role: str, canary: str) -> None:
    error, got = attack(srv, role, canary, "api_without_credentials", {"port": srv.port})
    assert error is None, got
    assert got["stats"]["status"] == 403, got
    assert got["anonymous"]["status"] == 403, got
    assert got["forged"]["status"] == 403, got
    assert got["forged"]["error_type"] is not None
