"""The `process` backend after a SIGKILL of its server: its environments, idle ones
included (stopped with SIGSTOP, the backend's freeze), die with it instead of staying
stopped forever."""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.fixtures.functions import python_zip
from tests.host_state import Proc, start_time
from tests.support import lambda_role, start_server

APP = """
import time
def handler(event, context):
    time.sleep(event.get("hold", 0))
    return "ok"
"""


def children(pid: int) -> list[Proc]:
    """Direct children of `pid` (the process backend's environments are)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            child = int(stat.parent.name)
            start = start_time(child)
            if start is not None:
                found.append(Proc(child, start, "process"))
    return found


def state(proc: Proc) -> str:
    try:
        return Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def wait_until(check: object, timeout: float) -> bool:
    """Poll /proc (no event to wait on), with a bound."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_sigkilled_servers_stopped_environments_die_with_it(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", extra_args=["--sandbox", "process"])
    try:
        lam = server.client("lambda", max_pool_connections=8)
        lam.create_function(
            FunctionName="idle",
            Runtime="python3.11",
            Role=lambda_role(server, "idle-role"),
            Handler="app.handler",
            Code={"ZipFile": python_zip(APP)},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="idle")
        with ThreadPoolExecutor(2) as pool:
            payload = json.dumps({"hold": 1})
            answers = list(
                pool.map(lambda _: lam.invoke(FunctionName="idle", Payload=payload), range(2))
            )
        assert all(a["StatusCode"] == 200 for a in answers)
        envs = children(server.proc.pid)
        assert len(envs) >= 2, envs
        # Idle environments are frozen: stopped.
        assert wait_until(lambda: all(state(e) == "T" for e in envs), timeout=30), [
            state(e) for e in envs
        ]
    finally:
        server.stop(sig=signal.SIGKILL)
    assert wait_until(lambda: not any(e.running() for e in envs), timeout=10), [
        (e, state(e)) for e in envs if e.running()
    ]
