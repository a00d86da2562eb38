"""The cluster simulation (bench/cluster_sim.py) at a toy size: it must stay a faithful
harness for the real placement and admission code, so a few things it reports are checked
against what the rules imply."""

from __future__ import annotations

from dataclasses import replace

from bench.cluster_report import report
from bench.cluster_sim import Params, Simulation

TOY = Params(
    workers=4,
    worker_memory_mb=8192,
    frontends=2,
    functions=200,
    accounts=3,
    rate=200.0,
    seconds=20.0,
    warmup=5.0,
    keep_alive=60.0,
    burst_every=0.0,
    kill_at=0.0,
    reserved_functions=2,
)


def test_the_same_seed_gives_the_same_run() -> None:
    first, second = Simulation(TOY).run(), Simulation(TOY).run()
    assert (first.invokes, first.cold, first.statements) == (
        second.invokes,
        second.cold,
        second.statements,
    )
    assert first.invokes > 2000


def test_one_function_runs_warm_once_its_environments_exist() -> None:
    params = replace(TOY, functions=1, reserved_functions=0, async_share=0.0)
    outcome = Simulation(params).run()
    assert outcome.invokes > 2000
    # Cold starts only while the pool grows to the function's concurrency.
    assert outcome.cold <= max(outcome.concurrency) + 5


def test_no_worker_ever_holds_more_than_its_memory_and_the_report_renders() -> None:
    sim = Simulation(replace(TOY, worker_memory_mb=2048, burst_every=5.0, burst_size=300))
    outcome = sim.run()
    for worker in sim.workers:
        assert 0 <= worker.idle_mb <= worker.used_mb <= worker.memory_mb
    assert max(outcome.concurrency) <= TOY.account_limit * TOY.accounts
    result = report(sim.p, outcome)
    assert "cold-start ratio, all" in result["table"]
    assert result["saturation"]


def test_views_local_also_places_every_invoke_it_admits() -> None:
    outcome = Simulation(replace(TOY, views="local", worker_memory_mb=16384)).run()
    assert outcome.invokes > 2000
    assert not outcome.errors
