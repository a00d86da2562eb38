"""Where an invocation runs: the placement policy checked against tables and properties
written here from the rules (issue 9 §2), not from the code."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambent.cluster.placement import (
    Placement,
    WorkerView,
    place,
    place_new,
    spread_provisioned,
)

V = "version-key-a"
OTHER = "version-key-b"


def worker(
    worker_id: str,
    *,
    used: int = 0,
    memory: int = 1024,
    busy: int = 0,
    idle: dict[str, int] | None = None,
    alive: bool = True,
    accepts_new: bool = True,
    cpus: float = 2.0,
    reclaimable: int = 0,
) -> WorkerView:
    return WorkerView(
        worker_id, alive, memory, used, cpus, busy, idle or {}, accepts_new, reclaimable
    )


# Each row: the workers, the invocation's memory, the expected answer (None: no worker).
PLACE_TABLE: list[tuple[str, list[WorkerView], int, Placement | None]] = [
    (
        "an idle environment of the version wins over an emptier worker",
        [worker("a", used=0), worker("b", used=900, idle={V: 1})],
        128,
        Placement("b", warm=True),
    ),
    (
        "an idle environment of another version is no warm start",
        [worker("a", used=512), worker("b", used=128, idle={OTHER: 1})],
        128,
        Placement("b", warm=False),
    ),
    (
        "a dead worker's idle environment is not used",
        [worker("a", used=512), worker("b", idle={V: 3}, alive=False)],
        128,
        Placement("a", warm=False),
    ),
    (
        "among warm workers, the one with most idle environments of the version",
        [worker("a", idle={V: 1}), worker("b", used=800, idle={V: 2})],
        128,
        Placement("b", warm=True),
    ),
    (
        "equally warm: the least loaded by memory busy",
        [
            worker("a", used=600, idle={V: 1}, reclaimable=128),
            worker("b", used=600, idle={V: 1}, reclaimable=400),
        ],
        128,
        Placement("b", warm=True),
    ),
    (
        "equally warm and loaded: the lowest id",
        [worker("b", used=300, idle={V: 1}), worker("a", used=300, idle={V: 1})],
        128,
        Placement("a", warm=True),
    ),
    (
        "a draining worker still serves from its idle environments",
        [worker("a"), worker("b", used=512, idle={V: 1}, accepts_new=False)],
        128,
        Placement("b", warm=True),
    ),
    (
        "cold: the worker with the smallest fraction of memory busy",
        [worker("a", used=512, memory=1024), worker("b", used=1024, memory=4096)],
        128,
        Placement("b", warm=False),
    ),
    (
        "cold: idle environments are no load",
        [worker("a", used=800, reclaimable=700), worker("b", used=200)],
        128,
        Placement("a", warm=False),
    ),
    (
        "cold: among workers that must reclaim, the least busy",
        [worker("a", used=1024, reclaimable=128), worker("b", used=1024, reclaimable=512)],
        128,
        Placement("b", warm=False),
    ),
    (
        "cold, equal fraction: fewer busy environments",
        [worker("a", used=256, busy=3), worker("b", used=256, busy=1)],
        128,
        Placement("b", warm=False),
    ),
    (
        "cold, all equal: the lowest id",
        [worker("c"), worker("b"), worker("d")],
        128,
        Placement("b", warm=False),
    ),
    (
        "cold: a worker without the memory is skipped however idle it is",
        [worker("a", used=960, memory=1024), worker("b", used=3000, memory=4096)],
        128,
        Placement("b", warm=False),
    ),
    (
        "cold: exactly the memory left is enough",
        [worker("a", used=896, memory=1024)],
        128,
        Placement("a", warm=False),
    ),
    (
        "cold: a worker that accepts no new environments is skipped",
        [worker("a", accepts_new=False), worker("b", used=700)],
        128,
        Placement("b", warm=False),
    ),
    (
        "cold: memory held by idle environments is room (the worker reclaims them)",
        [worker("a", used=1024, reclaimable=128), worker("b", used=1000)],
        128,
        Placement("a", warm=False),
    ),
    (
        "cold: memory free without reclaiming is used first",
        [worker("a", used=1024, reclaimable=1024), worker("b", used=768)],
        128,
        Placement("b", warm=False),
    ),
    (
        "cold: busy memory is not reclaimable",
        [worker("a", used=1024, reclaimable=64)],
        128,
        None,
    ),
    ("nobody has room: None", [worker("a", used=1000), worker("b", used=1024)], 128, None),
    ("every worker dead: None", [worker("a", alive=False, idle={V: 1})], 128, None),
    ("no workers: None", [], 128, None),
]


@pytest.mark.parametrize(
    ("workers", "memory", "expected"),
    [row[1:] for row in PLACE_TABLE],
    ids=[row[0] for row in PLACE_TABLE],
)
def test_place_follows_the_rules(
    workers: list[WorkerView], memory: int, expected: Placement | None
) -> None:
    assert place(V, memory, workers) == expected


SPREAD_TABLE: list[tuple[str, int, list[WorkerView], dict[str, int]]] = [
    (
        "evenly over equal workers",
        6,
        [worker("a"), worker("b"), worker("c")],
        {"a": 2, "b": 2, "c": 2},
    ),
    (
        "a remainder goes one each, to the lowest ids among equals",
        5,
        [worker("c"), worker("b"), worker("a")],
        {"a": 2, "b": 2, "c": 1},
    ),
    (
        "a small worker fills up, the rest is levelled over the others",
        10,
        [worker("small", used=768), worker("x"), worker("y")],  # 2, 8 and 8 slots of 128
        {"small": 2, "x": 4, "y": 4},
    ),
    (
        "the remainder goes to the roomiest first",
        3,
        [worker("a", used=512), worker("b")],  # 4 and 8 slots
        {"b": 2, "a": 1},
    ),
    (
        "more than fits: every worker full, no more",
        100,
        [worker("a", used=512), worker("b")],
        {"a": 4, "b": 8},
    ),
    (
        "idle on-demand environments' memory counts as room",
        4,
        [worker("a", used=1024, reclaimable=256), worker("b", used=1024)],
        {"a": 2},
    ),
    (
        "dead and closed workers get nothing",
        4,
        [worker("a", alive=False), worker("b", accepts_new=False), worker("c")],
        {"c": 4},
    ),
    ("nothing asked, nothing given", 0, [worker("a")], {}),
    ("a single slot goes to the lowest id", 1, [worker("b"), worker("a")], {"a": 1}),
]


@pytest.mark.parametrize(
    ("total", "workers", "expected"),
    [row[1:] for row in SPREAD_TABLE],
    ids=[row[0] for row in SPREAD_TABLE],
)
def test_spread_provisioned_follows_the_rules(
    total: int, workers: list[WorkerView], expected: dict[str, int]
) -> None:
    assert spread_provisioned(total, 128, workers) == expected


# Properties over random clusters.

KEYS = st.sampled_from(["k1", "k2", "k3"])


def busy_room(view: WorkerView) -> int:
    return view.memory_mb - (view.memory_used_mb - view.memory_idle_mb)


MEMORIES = st.sampled_from([128, 256, 512, 1024, 1769])


@st.composite
def clusters(draw: st.DrawFn) -> list[WorkerView]:
    count = draw(st.integers(0, 8))
    views = []
    for n in range(count):
        memory = draw(st.sampled_from([0, 512, 2048, 4096, 8192]))
        used = draw(st.integers(0, memory))
        views.append(
            WorkerView(
                worker_id=f"w{draw(st.integers(0, 99)):02d}-{n}",
                alive=draw(st.booleans()),
                memory_mb=memory,
                memory_used_mb=used,
                cpus=draw(st.sampled_from([1.0, 2.0, 16.0])),
                busy=draw(st.integers(0, 20)),
                idle_by_version=draw(st.dictionaries(KEYS, st.integers(0, 3), max_size=3)),
                accepts_new=draw(st.booleans()),
                memory_idle_mb=draw(st.integers(0, used)),
            )
        )
    return views


@settings(max_examples=400, deadline=None)
@given(views=clusters(), key=KEYS, memory=MEMORIES)
def test_place_never_picks_a_dead_or_full_worker_and_prefers_warm(
    views: list[WorkerView], key: str, memory: int
) -> None:
    chosen = place(key, memory, views)
    by_id = {view.worker_id: view for view in views}
    warm_ones = [v for v in views if v.alive and v.idle_by_version.get(key, 0) > 0]
    # Room: memory not held by busy environments (idle ones are reclaimed).
    roomy = [v for v in views if v.alive and v.accepts_new and busy_room(v) >= memory]
    if warm_ones:
        assert chosen is not None and chosen.warm
        assert by_id[chosen.worker_id] in warm_ones
        most = max(v.idle_by_version[key] for v in warm_ones)
        assert by_id[chosen.worker_id].idle_by_version[key] == most
    elif roomy:
        assert chosen is not None and not chosen.warm
        picked = by_id[chosen.worker_id]
        assert picked in roomy
        # If it fits somewhere without reclaiming, it does where it goes.
        unreclaimed = [v for v in roomy if v.memory_mb - v.memory_used_mb >= memory]
        assert not unreclaimed or picked in unreclaimed
        # No such worker has a smaller fraction of its memory busy.
        busy = {v.worker_id: v.memory_used_mb - v.memory_idle_mb for v in views}
        assert all(
            busy[picked.worker_id] * v.memory_mb <= busy[v.worker_id] * picked.memory_mb
            for v in (unreclaimed or roomy)
        )
    else:
        assert chosen is None


@settings(max_examples=200, deadline=None)
@given(views=clusters(), key=KEYS, memory=MEMORIES)
def test_place_does_not_depend_on_the_order_of_the_views(
    views: list[WorkerView], key: str, memory: int
) -> None:
    unique = list({v.worker_id: v for v in views}.values())
    assert place(key, memory, unique) == place(key, memory, list(reversed(unique)))


@settings(max_examples=400, deadline=None)
@given(views=clusters(), total=st.integers(0, 200), memory=MEMORIES)
def test_spread_fills_what_fits_and_keeps_equal_workers_level(
    views: list[WorkerView], total: int, memory: int
) -> None:
    unique = list({v.worker_id: v for v in views}.values())
    spread = spread_provisioned(total, memory, unique)
    slots = {v.worker_id: busy_room(v) // memory for v in unique if v.alive and v.accepts_new}
    assert set(spread) <= set(slots)  # never a dead or closed worker
    assert all(0 < count <= slots[wid] for wid, count in spread.items())  # never over
    assert sum(spread.values()) == min(total, sum(slots.values()))
    by_room: dict[int, list[int]] = {}
    for wid, room in slots.items():
        by_room.setdefault(room, []).append(spread.get(wid, 0))
    for counts in by_room.values():
        assert max(counts) - min(counts) <= 1
    # A worker left below its room never has less than one with less room.
    for wid, count in spread.items():
        for other, other_count in spread.items():
            if slots[other] < slots[wid]:
                assert count >= other_count or count == slots[wid]


def test_spread_over_many_equal_workers_differs_by_one_at_most() -> None:
    views = [worker(f"w{n:03d}", memory=8192) for n in range(100)]
    spread = spread_provisioned(1234, 256, views)
    assert sum(spread.values()) == 1234
    assert Counter(spread.values()) == Counter({13: 34, 12: 66})


@settings(max_examples=200, deadline=None)
@given(views=clusters(), key=KEYS, memory=MEMORIES)
def test_a_warm_answer_needs_only_the_workers_holding_the_version(
    views: list[WorkerView], key: str, memory: int
) -> None:
    """What lets a caller keep an index of idle environments by version (the simulation
    does): the warm rule looks at no other worker."""
    chosen = place(key, memory, views)
    holding = [v for v in views if v.idle_by_version.get(key, 0) > 0]
    if chosen is not None and chosen.warm:
        assert place(key, memory, holding) == chosen
    if not any(v.alive for v in holding):
        assert place_new(memory, views) == chosen


@pytest.mark.parametrize(
    ("used", "idle", "busy"), [(100, 200, 0), (100, -1, 0), (100, 0, -1)], ids=str
)
def test_an_inconsistent_view_is_refused(used: int, idle: int, busy: int) -> None:
    with pytest.raises(ValueError):
        worker("a", used=used, reclaimable=idle, busy=busy)
