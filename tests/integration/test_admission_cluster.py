"""Issue 9's admission acceptance on real processes: two `lambent serve` nodes on one
PostgreSQL ledger and an account quota of 100; 200 invokes at once, half on each node:
exactly 100 run and 100 get AWS's 429 with its Reason (test_admission_roles.py: the same
through two frontends on three workers)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator

import pytest
from bench.httpclient import Connection
from bench.loadgen import signed, target_for
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, http_get, lambda_role, start_server

pytestmark = pytest.mark.services

PORTS = (9871, 9872)
SLEEPER = """import time

def handler(event, context):
    time.sleep(event.get("s", 1))
    return "ok"
"""


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    from tests.pg import fresh_schema

    with fresh_schema() as url:
        started: list[ServerProcess] = []
        try:
            for port in PORTS:
                data = tmp_path_factory.mktemp(f"node{port}")
                args = ["--account-concurrency", "100", "--database", url]
                started.append(start_server(data, port=port, auth="open", extra_args=args))
            yield started
        finally:
            for server in started:
                server.stop()


def ensure_function(server: ServerProcess, name: str) -> None:
    """Created once in a shared store, or on each node while stores are per node."""
    lam = server.client("lambda")
    try:
        lam.get_function(FunctionName=name)
    except ClientError:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=lambda_role(server, "conc-role"),
            Handler="app.handler",
            Code={"ZipFile": python_zip(SLEEPER)},
            Timeout=30,
        )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)


async def fire(
    servers: list[ServerProcess], name: str, each: int, seconds: float
) -> Counter[tuple[int, str | None]]:
    """`each` invokes on every server, all sent at once on open connections."""
    body = json.dumps({"s": seconds}).encode()
    targets = [target_for(s.endpoint, name, *s.credentials()) for s in servers]
    conns = [(t, await Connection.open(t.host, t.port)) for t in targets for _ in range(each)]
    try:
        replies = await asyncio.gather(
            *(c.request("POST", t.path, signed(t, body), body) for t, c in conns)
        )
    finally:
        for _, c in conns:
            await c.close()
    out: Counter[tuple[int, str | None]] = Counter()
    for reply in replies:
        if reply.status == 200:
            out[(200, reply.headers.get("x-amz-function-error"))] += 1
        else:
            out[(reply.status, json.loads(reply.body).get("Reason"))] += 1
    return out


def leases_in_use(server: ServerProcess) -> int:
    status, body = http_get(f"{server.endpoint}/_lambent/stats")
    assert status == 200
    return int(json.loads(body)["leases_in_use"])


def test_exactly_the_quota_runs_across_two_nodes(nodes: list[ServerProcess]) -> None:
    for server in nodes:
        ensure_function(server, "spread")
    counts = asyncio.run(fire(nodes, "spread", 100, 2.0))
    assert counts == {(200, None): 100, (429, "ConcurrentInvocationLimitExceeded"): 100}, counts
    assert [leases_in_use(s) for s in nodes] == [0, 0]
    # The quota is whole again, on one node alone (the other gives its idle tokens back).
    again = asyncio.run(fire(nodes[:1], "spread", 100, 0.5))
    assert again == {(200, None): 100}, again
