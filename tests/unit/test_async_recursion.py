"""Recursive loop detection on the async path, in virtual time (async_world.py): a loop
through destinations (a's OnSuccess is b, b's is a) carries its trace from invocation to
invocation, and the 17th invocation of a function in the chain is dropped and counted;
Allow lets the loop run on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lambent.async_invoke.service import AsyncInvocations
from lambent.clock import ManualClock
from lambent.invoke import lineage
from tests.unit.async_world import PREFIX, World, call, quiesce, scenario


async def settle(done: Callable[[], bool]) -> None:
    """The chain runs without timers (no retries, no backoff): run ready tasks until done,
    bounded (a chain that never ends fails here, it does not hang)."""
    for _ in range(100):
        await quiesce()
        if done():
            return
    raise AssertionError("not done")


def loop(world: World) -> None:
    world.add("a")
    world.add("b")
    world.configs["a"] = {"DestinationConfig": {"OnSuccess": {"Destination": PREFIX + "b"}}}
    world.configs["b"] = {"DestinationConfig": {"OnSuccess": {"Destination": PREFIX + "a"}}}


def test_a_destination_loop_stops_at_the_seventeenth_invocation(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        loop(world)
        await svc.accept(call("a"))
        dropped = world.recursion.stats

        await settle(lambda: dropped.RecursiveInvocationsDropped == 1)
        await quiesce()
        a, b = world.functions["a"], world.functions["b"]
        assert (len(a.runs), len(b.runs)) == (16, 16)
        last = a.runs[-1].trace
        assert lineage.counts(last)[lineage.resource_id(PREFIX + "a")] == 16
        stats = await svc.stats()
        assert (stats.queued, stats.claimed) == (0, 0)

    scenario(tmp_path, body)


def test_allow_lets_a_destination_loop_run_on(tmp_path: Path) -> None:
    async def body(world: World, svc: AsyncInvocations, clock: ManualClock) -> None:
        loop(world)
        world.recursive_loop["a"] = world.recursive_loop["b"] = "Allow"
        await svc.accept(call("a"))
        a = world.functions["a"]
        await settle(lambda: len(a.runs) > 40)
        assert world.recursion.stats.RecursiveInvocationsDropped == 0

    scenario(tmp_path, body)
