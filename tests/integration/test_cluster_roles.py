"""1 frontend + 2 workers as real processes on one PostgreSQL schema (issue 9 §2, §3).

A function created on the frontend runs on a worker (the frontend runs no environment),
and the worker's answer comes back unchanged: payload, function error, log tail, executed
version. A worker's internal endpoint refuses requests without the cluster signature. A
worker SIGKILLed mid-load fails its in-flight invokes with AWS's ServiceException at once,
and the next invoke runs on the survivor.
"""

from __future__ import annotations

import base64
import json
import signal
import urllib.request
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import files_zip
from tests.pg import fresh_schema
from tests.support import (
    ServerProcess,
    WorkerProcess,
    cluster_secret,
    lambda_role,
    start_frontend,
    start_worker,
)

pytestmark = pytest.mark.services

APP = """
import json, os, socket, time, urllib.error, urllib.parse, urllib.request

def probe(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        return type(exc).__name__
    try:  # connected: what an unsigned internal invoke gets
        url = f"http://{host}:{port}/_lambent/internal/invoke"
        urllib.request.urlopen(urllib.request.Request(url, data=b"{}"), timeout=5)
        return "answered"
    except urllib.error.HTTPError as err:
        return err.code
    except OSError as exc:
        return type(exc).__name__

def handler(event, context):
    print("running", json.dumps(event))
    if event.get("probe"):
        host = urllib.parse.urlsplit(os.environ["AWS_ENDPOINT_URL"]).hostname
        return {str(port): probe(host, port) for port in event["probe"]}
    if event.get("raise"):
        raise ValueError("boom")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"echo": event, "version": context.function_version}
"""


@dataclass
class Cluster:
    frontend: ServerProcess
    workers: list[WorkerProcess]
    secret: Path

    def lam(self, **kwargs: Any) -> Any:
        return self.frontend.client("lambda", **kwargs)

    def invocations(self) -> list[int]:
        return [int(w.stats()["worker"]["invocations"]) for w in self.workers]


def start_cluster(tmp: Path, database: str, workers: int = 2) -> Generator[Cluster, None, None]:
    with ExitStack() as stack:
        secret = cluster_secret(tmp)
        frontend = start_frontend(tmp / "frontend", database, secret)
        stack.callback(frontend.stop)
        started = []
        for index in range(workers):
            worker = start_worker(tmp / f"worker{index}", database, secret, frontend.port)
            stack.callback(worker.stop)
            started.append(worker)
        yield Cluster(frontend, started, secret)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with fresh_schema() as url:
        yield from start_cluster(tmp_path_factory.mktemp("cluster"), url)


def create(cluster: Cluster, name: str, timeout: int = 3) -> None:
    lam = cluster.lam()
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=lambda_role(cluster.frontend, "cluster-role"),
        Handler="app.handler",
        Code={"ZipFile": files_zip({"app.py": APP})},
        Timeout=timeout,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)


def invoke(lam: Any, name: str, event: Any, **kw: Any) -> tuple[dict[str, Any], Any]:
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event), **kw)
    return resp, json.loads(resp["Payload"].read())


def test_an_invoke_through_the_frontend_runs_on_a_worker(cluster: Cluster) -> None:
    create(cluster, "echo")
    before = sum(cluster.invocations())
    resp, body = invoke(cluster.lam(), "echo", {"hello": "world"}, LogType="Tail")
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp
    assert body == {"echo": {"hello": "world"}, "version": "$LATEST"}
    assert resp["ExecutedVersion"] == "$LATEST"
    assert 'running {"hello": "world"}' in base64.b64decode(resp["LogResult"]).decode()
    assert sum(cluster.invocations()) == before + 1
    status, raw = _get(f"{cluster.frontend.endpoint}/_lambent/stats")
    stats = json.loads(raw)
    assert status == 200 and stats["role"] == "frontend"
    assert stats["environments"]["total"] == 0  # the frontend ran nothing itself


def test_a_function_error_and_a_published_version_come_back_unchanged(cluster: Cluster) -> None:
    create(cluster, "fails")
    lam = cluster.lam()
    resp, body = invoke(lam, "fails", {"raise": True})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "boom"
    version = lam.publish_version(FunctionName="fails")["Version"]
    resp, body = invoke(lam, "fails", {"a": 1}, Qualifier=version)
    assert resp["ExecutedVersion"] == version and body["version"] == version


def test_an_environment_cannot_reach_its_workers_internal_port(cluster: Cluster) -> None:
    """Its own worker's internal port is dropped by the sandbox; another worker's on the
    same host is reachable (through the mapped loopback) but refuses it without the
    secret; the frontend's public port is the API functions call."""
    create(cluster, "prober")
    ports = [w.internal_port for w in cluster.workers]
    before = cluster.invocations()
    _, seen = invoke(cluster.lam(), "prober", {"probe": ports})
    ran_on = [
        i for i, (a, b) in enumerate(zip(before, cluster.invocations(), strict=True)) if b > a
    ]
    assert len(ran_on) == 1
    own, other = ports[ran_on[0]], ports[1 - ran_on[0]]
    assert seen[str(own)] in ("TimeoutError", "timeout", "ConnectionRefusedError"), seen
    assert seen[str(other)] == 403, seen


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_the_internal_endpoint_refuses_requests_without_the_secret(cluster: Cluster) -> None:
    from lambent.cluster import secret, wire

    worker = f"http://{cluster.workers[0].internal}"
    headers = {
        wire.H_FUNCTION: "123456789012/echo/$LATEST",
        wire.H_KEY: "x",
        wire.H_REQUEST_ID: "r",
        wire.H_INVOKED_ARN: "arn",
    }
    assert _post(worker + wire.INVOKE_PATH, b"{}", headers) == 403
    forged = dict(secret.sign(b"not the cluster's key " * 2, "POST", wire.INVOKE_PATH, b"{}", 0))
    assert _post(worker + wire.INVOKE_PATH, b"{}", {**headers, **forged}) == 403
    # Nothing of the public API, nor the stats, without the signature.
    assert _get(worker + "/2015-03-31/functions/")[0] == 403
    assert _get(worker + "/_lambent/stats")[0] == 403
    # Nor the frontend's code route.
    assert _get(f"{cluster.frontend.endpoint}{wire.BLOBS_PREFIX}{'0' * 64}")[0] == 403


def test_a_worker_killed_mid_load_fails_its_invokes_and_the_next_run_elsewhere(
    tmp_path: Path, pg_url: str
) -> None:
    clusters = start_cluster(tmp_path, pg_url)
    cluster = next(clusters)
    try:
        create(cluster, "slow", timeout=60)
        lam = cluster.lam(max_pool_connections=20, read_timeout=120)
        # Enough at once that both workers run some (cold placements spread by load).
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(invoke, lam, "slow", {"sleep": 30}) for _ in range(8)]
            victim = _busy_worker(cluster)
            victim.stop(signal.SIGKILL)
            done, _ = wait(futures, timeout=120)  # a bound against hangs (function: 30 s)
            assert len(done) == len(futures)
        failures = [f.exception() for f in futures if f.exception() is not None]
        assert failures, "the killed worker's invokes should have failed"
        for exc in failures:
            assert isinstance(exc, ClientError), exc
            assert exc.response["Error"]["Code"] == "ServiceException"
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        # The next invoke runs on the survivor, at once (the dead one refuses connections).
        resp, body = invoke(lam, "slow", {"n": 1})
        assert resp["StatusCode"] == 200 and body["echo"] == {"n": 1}
    finally:
        clusters.close()


def _busy_worker(cluster: Cluster) -> WorkerProcess:
    """A worker that is running invocations now (waits until one is, bounded)."""
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for worker in cluster.workers:
            if worker.stats()["environments"].get("busy", 0) > 0:
                return worker
    raise AssertionError("no worker got busy")
