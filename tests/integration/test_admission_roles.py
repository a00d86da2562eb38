"""Issue 9's admission acceptance as the issue's cluster: two frontends and three workers as
separate processes on one PostgreSQL schema, an account quota of 100, 200 invokes at once,
half through each frontend: exactly 100 run and 100 get AWS's 429 with its Reason.

Its own module, so the two `all` nodes of test_admission_cluster.py are gone before these
five processes open their connections (the server allows 100)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.integration.test_admission_cluster import ensure_function, fire, leases_in_use
from tests.support import ServerProcess, cluster_secret, start_frontend, start_worker

pytestmark = pytest.mark.services

FRONTEND_PORTS = (9873, 9874)


@pytest.fixture(scope="module")
def frontends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    """Two frontends and three workers (the workers' functions call the first frontend)."""
    from tests.pg import fresh_schema

    tmp = tmp_path_factory.mktemp("roles")
    secret = cluster_secret(tmp)
    quota = ["--account-concurrency", "100"]
    with fresh_schema() as url, ExitStack() as stack:
        started: list[ServerProcess] = []
        for port in FRONTEND_PORTS:
            node = start_frontend(
                tmp / f"frontend{port}", url, secret, port=port, auth="open", extra_args=quota
            )
            stack.callback(node.stop)
            started.append(node)
        for index in range(3):
            worker = start_worker(tmp / f"worker{index}", url, secret, FRONTEND_PORTS[0])
            stack.callback(worker.stop)
        yield started


def test_exactly_the_quota_runs_through_two_frontends_on_three_workers(
    frontends: list[ServerProcess],
) -> None:
    ensure_function(frontends[0], "roles")
    # Long enough that no invocation ends before the last request is admitted or throttled
    # (100 cold starts on three workers sharing two cores take seconds), so a token freed
    # by one that ended cannot admit a 101st.
    counts = asyncio.run(fire(frontends, "roles", 100, 6.0))
    assert counts == {(200, None): 100, (429, "ConcurrentInvocationLimitExceeded"): 100}, counts
    assert [leases_in_use(s) for s in frontends] == [0, 0]
