"""Real `lambent serve --sandbox namespaces` servers with environments in known states
(frozen, running), a service on the host's loopback for functions to reach, and waits
with bounds."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.fixtures.functions import python_zip
from tests.host_state import HostState, tag_of_pid
from tests.support import ServerProcess, lambda_role, start_server

# Reaches the host first (so the test knows it runs), then holds its environment if asked.
REACH = """
import json, time, urllib.request

def handler(event, context):
    url = "http://169.254.100.1:%d/%s" % (event["port"], event.get("id", "-"))
    with urllib.request.urlopen(url, timeout=10) as answer:
        body = answer.read().decode()
    time.sleep(event.get("hold", 0))
    return body
"""


class HostService:
    """An HTTP server on the host's loopback; it counts the requests it has seen by path."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self._changed = threading.Condition()
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b"host-ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with service._changed:
                    service.seen[self.path] = service.seen.get(self.path, 0) + 1
                    service._changed.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, path: str, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.seen.get(path, 0) >= count, timeout)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def host_service() -> Iterator[HostService]:
    service = HostService()
    try:
        yield service
    finally:
        service.close()


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll host state that has no event to wait on (cgroupfs, /proc), with a bound."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def serve(data: Path, *args: str) -> ServerProcess:
    return start_server(data, extra_args=["--sandbox", "namespaces", *args], ready_timeout=120)


def sandbox_tag(server: ServerProcess) -> str:
    tag = tag_of_pid(server.proc.pid)
    assert tag is not None, "the server registered no sandbox"
    return tag


def deploy_reach(
    server: ServerProcess, name: str = "reach", runtime: str = "python3.11", **extra: Any
) -> Any:
    lam = server.client("lambda", max_pool_connections=32)
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=lambda_role(server, "reap-role"),
        Handler="app.handler",
        Code={"ZipFile": python_zip(REACH)},
        Timeout=300,
        MemorySize=256,
        **extra,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return lam


def invoke(lam: Any, name: str, event: dict[str, Any], qualifier: str | None = None) -> Any:
    extra = {"Qualifier": qualifier} if qualifier else {}
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event), **extra)
    payload = json.loads(response["Payload"].read() or b"null")
    assert "FunctionError" not in response, payload
    return payload


def reach_in_parallel(lam: Any, name: str, port: int, count: int, hold: float = 0.0) -> list[Any]:
    """`count` invokes at once, so `count` environments (each reaches the host)."""
    with ThreadPoolExecutor(count) as pool:
        futures = [
            pool.submit(invoke, lam, name, {"port": port, "id": f"p{i}", "hold": hold})
            for i in range(count)
        ]
        return [f.result() for f in futures]


def frozen_count(tag: str) -> int:
    return len(HostState.capture().of_tag(tag).frozen_cgroups)


def hold_running(
    pool: ThreadPoolExecutor, lam: Any, name: str, service: HostService, count: int
) -> list[Future[Any]]:
    """`count` invocations that stay running (they have reached the host when this returns)."""
    futures = [
        pool.submit(invoke, lam, name, {"port": service.port, "id": "holding", "hold": 600})
        for _ in range(count)
    ]
    assert service.wait_for("/holding", count, timeout=120), "holders never reached the host"
    return futures
