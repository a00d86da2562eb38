"""One mapping's poller (filter, invoke, settle, throttle back-off, scaling, clean stop)
and the supervisor (State lifecycle, leases across nodes) with a fake source, on the
injected clock."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from lambent.clock import ManualClock
from lambent.event_sources.pollers.invoking import Retry, Target
from lambent.event_sources.pollers.leases import MappingLeases
from lambent.event_sources.pollers.mapping import MappingPoller, PollerSpec
from lambent.event_sources.pollers.source import Failure, Source
from lambent.event_sources.pollers.supervisor import KIND, PollerSupervisor
from lambent.event_sources.sources import SourceKind
from lambent.store.interface import Doc
from lambent.store.memory import MemoryStore
from tests.unit.esm_fakes import FakeInvoker, FakeSource, spin

TARGET = Target("123456789012", "arn:aws:lambda:us-east-1:123456789012:function:f", True)


def poller(
    source: FakeSource, invoke: FakeInvoker, maximum: int = 5, keep: Any = None
) -> MappingPoller:
    spec = PollerSpec(TARGET, keep or (lambda item: True), maximum)
    return MappingPoller(source, spec, invoke, source.clock)


async def test_a_batch_is_invoked_and_deleted() -> None:
    clock = ManualClock()
    source, invoke = FakeSource(clock), FakeInvoker()
    p = poller(source, invoke)
    p.start()
    source.put("a", "b")
    await spin()
    assert invoke.batches == [[r for r in source.deleted]]
    assert p.metrics.batches == 1 and p.metrics.records == 2
    await p.stop()
    assert source.closed


async def test_partial_failure_returns_only_the_failed() -> None:
    clock = ManualClock()
    source = FakeSource(clock)
    source.put("a", "b", "c")
    ids = [r.record_id for r in source.visible]
    invoke = FakeInvoker(answers=[Failure(frozenset({ids[1]}))])
    p = poller(source, invoke)
    p.start()
    await spin()
    assert source.returned == [ids[1]]
    assert source.deleted == [ids[0], ids[2]]
    assert p.metrics.failed_records == 1
    await p.stop()


async def test_filtered_records_are_discarded_unseen() -> None:
    clock = ManualClock()
    source, invoke = FakeSource(clock), FakeInvoker()
    p = poller(source, invoke, keep=lambda item: item["body"] != "drop")
    p.start()
    source.put("keep", "drop", "keep")
    await spin()
    assert len(invoke.batches[0]) == 2
    assert len(source.discarded) == 1 and len(source.deleted) == 2
    assert p.metrics.filtered_out == 1
    await p.stop()


async def test_throttle_keeps_the_batch_and_backs_off() -> None:
    clock = ManualClock()
    source = FakeSource(clock)
    invoke = FakeInvoker(answers=[Retry("throttled"), Retry("throttled")])
    p = poller(source, invoke)
    p.start()
    source.put("a")
    await spin()
    assert len(invoke.batches) == 1
    clock.advance(0.099)
    await spin()
    assert len(invoke.batches) == 1  # not a tick before the first pause ends
    clock.advance(0.001)
    await spin()
    assert len(invoke.batches) == 2
    clock.advance(0.2)  # the pause doubled
    await spin()
    assert len(invoke.batches) == 3 and len(source.deleted) == 1
    assert p.metrics.throttles == 2
    await p.stop()


async def test_lanes_scale_up_with_backlog_never_past_the_maximum_and_down_when_drained() -> None:
    clock = ManualClock()
    source = FakeSource(clock, batch_size=2)
    invoke = FakeInvoker(gate=asyncio.Event())
    p = poller(source, invoke, maximum=3)
    p.start()
    source.put(*[str(i) for i in range(40)])
    await spin(200)
    assert invoke.running == 3 and p.metrics.lanes == 3
    assert invoke.gate is not None
    invoke.gate.set()
    await spin(500)
    assert len(source.deleted) == 40 and invoke.peak == 3
    for _ in range(5):  # idle receives: lanes give themselves up, down to one
        clock.advance(1.0)
        await spin()
    assert p.metrics.lanes == 1
    await p.stop()


async def test_stop_waits_for_the_batch_in_flight() -> None:
    clock = ManualClock()
    source = FakeSource(clock)
    invoke = FakeInvoker(gate=asyncio.Event())
    p = poller(source, invoke)
    p.start()
    source.put("a")
    await spin()
    stopping = asyncio.create_task(p.stop())
    await spin()
    assert not stopping.done() and not source.deleted
    assert invoke.gate is not None
    invoke.gate.set()
    await spin()
    assert stopping.done() and len(source.deleted) == 1 and source.closed


# -- the supervisor ------------------------------------------------------------------------
ACCOUNT = "123456789012"


def mapping(mapping_id: str, state: str, enabled: bool = True, **extra: Any) -> Doc:
    return {
        "UUID": mapping_id,
        "State": state,
        "FunctionArn": TARGET.function,
        "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:q",
        "LastModified": 1.0,
        "_kind": "sqs",
        "_function": "f",
        "_enabled": enabled,
        **extra,
    }


class World:
    def __init__(self, store: MemoryStore, clock: ManualClock, node: str) -> None:
        self.sources: dict[str, FakeSource] = {}
        self.invoke = FakeInvoker()

        async def factory(doc: Doc) -> Source:
            src = FakeSource(clock)
            self.sources[doc["UUID"]] = src
            return src

        self.leases = MappingLeases(store, node, clock, ttl_s=10.0)
        self.supervisor = PollerSupervisor(
            store, {SourceKind.SQS: factory}, self.invoke, self.leases, clock
        )


async def state_of(store: MemoryStore, mapping_id: str) -> str:
    doc = await store.get(KIND, ACCOUNT, mapping_id)
    assert doc is not None
    return str(doc["State"])


async def test_lifecycle_creating_to_enabled_disabling_to_disabled_and_deleted() -> None:
    clock, store = ManualClock(), MemoryStore()
    world = World(store, clock, "n1")
    sup = world.supervisor
    await store.put(KIND, ACCOUNT, "m1", mapping("m1", "Creating"), parent="f")
    await sup.reconcile()
    assert await state_of(store, "m1") == "Enabled"
    assert sup.poller("m1") is not None
    world.sources["m1"].put(json.dumps({"x": 1}))
    await spin()
    assert len(world.invoke.batches) == 1
    await store.put(KIND, ACCOUNT, "m1", mapping("m1", "Disabling", enabled=False), parent="f")
    await sup.reconcile()
    assert await state_of(store, "m1") == "Disabled"
    assert sup.poller("m1") is None and world.sources["m1"].closed
    world.sources["m1"].put("ignored")
    await spin()
    assert len(world.invoke.batches) == 1  # disabled: nothing polls
    await store.put(KIND, ACCOUNT, "m1", mapping("m1", "Enabling", LastModified=2.0), parent="f")
    await sup.reconcile()
    assert await state_of(store, "m1") == "Enabled" and sup.poller("m1") is not None
    await store.delete(KIND, ACCOUNT, "m1")
    await sup.reconcile()
    assert sup.poller("m1") is None
    assert await world.leases.holder("m1") is None
    await sup.stop()


async def test_an_update_restarts_the_poller_with_the_new_settings() -> None:
    clock, store = ManualClock(), MemoryStore()
    world = World(store, clock, "n1")
    await store.put(KIND, ACCOUNT, "m1", mapping("m1", "Enabled"), parent="f")
    await world.supervisor.reconcile()
    first = world.supervisor.poller("m1")
    await store.put(KIND, ACCOUNT, "m1", mapping("m1", "Updating", LastModified=5.0), parent="f")
    await world.supervisor.reconcile()
    assert world.supervisor.poller("m1") is not first
    assert await state_of(store, "m1") == "Enabled"
    await world.supervisor.stop()


async def test_one_node_polls_a_mapping_until_its_lease_lapses() -> None:
    clock, store = ManualClock(), MemoryStore()
    a, b = World(store, clock, "a"), World(store, clock, "b")
    await store.put(KIND, ACCOUNT, "m1", mapping("m1", "Enabled"), parent="f")
    await a.supervisor.reconcile()
    await b.supervisor.reconcile()
    assert a.supervisor.poller("m1") is not None and b.supervisor.poller("m1") is None
    clock.advance(9.0)
    await a.supervisor.reconcile()  # renewed
    clock.advance(9.0)
    await b.supervisor.reconcile()
    assert b.supervisor.poller("m1") is None
    clock.advance(10.0)  # a died: its lease lapses, b takes over
    await b.supervisor.reconcile()
    assert b.supervisor.poller("m1") is not None
    await a.supervisor.reconcile()  # a is back: it sees b's lease and stops its poller
    assert a.supervisor.poller("m1") is None
    await a.supervisor.stop()
    await b.supervisor.stop()


async def test_a_kind_without_a_factory_is_left_alone() -> None:
    clock, store = ManualClock(), MemoryStore()
    world = World(store, clock, "n1")
    await store.put(KIND, ACCOUNT, "k", mapping("k", "Enabled", _kind="kinesis"), parent="f")
    await world.supervisor.reconcile()
    assert world.supervisor.poller("k") is None and await world.leases.holder("k") is None
