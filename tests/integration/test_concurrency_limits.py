"""Issue 5's concurrency acceptance: honest 429s, and nothing leaked afterwards."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench.httpclient import Connection
from bench.loadgen import signed, target_for
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, http_get, lambda_role, start_server

SLEEPER = """import time

def handler(event, context):
    time.sleep(event.get("s", 1))
    return "ok"
"""


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = start_server(
        tmp_path_factory.mktemp("quota"), extra_args=["--account-concurrency", "100"]
    )
    yield srv
    srv.stop()


def stats(server: ServerProcess) -> dict[str, Any]:
    status, body = http_get(f"{server.endpoint}/_lambent/stats")
    assert status == 200
    return dict(json.loads(body))


def lambent_cgroups() -> int:
    """Environment cgroups on the host (memory hierarchy; 0 where there is none)."""
    root = Path("/sys/fs/cgroup/memory")
    return sum(1 for _ in root.glob("lambent*/*/")) if root.is_dir() else 0


def make_function(server: ServerProcess, name: str, timeout: int = 30) -> Any:
    role = lambda_role(server, "conc-role")
    lam = server.client("lambda", max_pool_connections=250)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip(SLEEPER)},
        Timeout=timeout,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return lam


def fire(
    server: ServerProcess, name: str, count: int, seconds: float
) -> list[tuple[int, str | None]]:
    """`count` signed invokes sent at once on open connections: (status, reason or error).

    boto3 from threads cannot put 200 requests on the wire within a second on two cores,
    so this uses the load generator's raw HTTP client (same SigV4 signing)."""
    key, secret = server.credentials()
    target = target_for(server.endpoint, name, key, secret)
    body = json.dumps({"s": seconds}).encode()

    async def main() -> list[tuple[int, str | None]]:
        conns = [await Connection.open(target.host, target.port) for _ in range(count)]
        try:
            replies = await asyncio.gather(
                *(c.request("POST", target.path, signed(target, body), body) for c in conns)
            )
        finally:
            for c in conns:
                await c.close()
        out: list[tuple[int, str | None]] = []
        for reply in replies:
            if reply.status == 200:
                out.append((200, reply.headers.get("x-amz-function-error")))
            else:
                out.append((reply.status, json.loads(reply.body).get("Reason")))
        return out

    return asyncio.run(main())


def wait_for(predicate: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def test_burst_against_the_account_quota(limited: ServerProcess) -> None:
    before = stats(limited)
    cgroups_before = lambent_cgroups()
    lam = make_function(limited, "burst")
    results = fire(limited, "burst", 200, 1.0)
    counts = Counter(results)
    assert counts[(200, None)] == 100, counts
    assert counts[(429, "ConcurrentInvocationLimitExceeded")] == 100, counts
    after = stats(limited)
    assert after["leases_in_use"] == 0
    assert after["environments"]["total"] <= 100
    assert after["environments"].get("busy", 0) == 0
    # Retire the environments and check that processes, fds and cgroups come back.
    lam.delete_function(FunctionName="burst")
    assert wait_for(lambda: stats(limited)["environments"]["total"] == 0)
    assert wait_for(
        lambda: stats(limited)["descendant_processes"] <= before["descendant_processes"] + 1
    ), stats(limited)
    assert wait_for(lambda: lambent_cgroups() <= cgroups_before), lambent_cgroups()
    assert stats(limited)["server_fds"] <= before["server_fds"] + 20


def test_reserved_concurrency_of_one(server: ServerProcess) -> None:
    lam = make_function(server, "reserved-one")
    lam.put_function_concurrency(FunctionName="reserved-one", ReservedConcurrentExecutions=1)
    counts = Counter(fire(server, "reserved-one", 2, 1.0))
    assert counts == {
        (200, None): 1,
        (429, "ReservedFunctionConcurrentInvocationLimitExceeded"): 1,
    }, counts
    assert stats(server)["leases_in_use"] == 0


def test_reserved_zero_throttles_everything(server: ServerProcess) -> None:
    lam = make_function(server, "reserved-zero")
    lam.put_function_concurrency(FunctionName="reserved-zero", ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName="reserved-zero", Payload=b"{}")
    assert err.value.response["Error"]["Code"] == "TooManyRequestsException"
    response: dict[str, Any] = dict(err.value.response)
    assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_function_concurrency(FunctionName="reserved-zero")
    assert lam.invoke(FunctionName="reserved-zero", Payload=b'{"s": 0}')["StatusCode"] == 200
