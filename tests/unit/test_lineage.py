"""Hop counting in the trace header's Lineage (invoke/lineage.py): pure."""

from __future__ import annotations

from lambent.invoke import lineage
from lambent.invoke.lineage import LIMIT

A = "arn:aws:lambda:us-east-1:123456789012:function:a"
B = "arn:aws:lambda:us-east-1:123456789012:function:b"
ROOT = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"


def test_the_first_invocation_of_a_chain_is_hop_one_and_keeps_the_trace() -> None:
    step = lineage.hop(ROOT, A)
    assert step.count == 1
    assert step.trace == f"{ROOT};Lineage={lineage.resource_id(A)}:1"


def test_each_function_counts_its_own_invocations_in_the_chain() -> None:
    trace = ROOT
    for expected in range(1, 4):
        a = lineage.hop(trace, A)
        b = lineage.hop(a.trace, B)
        assert (a.count, b.count) == (expected, expected)
        trace = b.trace
    assert lineage.counts(trace) == {lineage.resource_id(A): 3, lineage.resource_id(B): 3}


def test_a_function_over_the_limit_is_its_seventeenth_invocation() -> None:
    trace, steps = ROOT, []
    for _ in range(LIMIT + 1):
        step = lineage.hop(trace, A)
        steps.append(step)
        trace = step.trace
    assert LIMIT == 16
    assert [s.over_limit for s in steps] == [False] * 16 + [True]


def test_versions_and_aliases_count_as_their_function() -> None:
    assert lineage.resource_id(A) == lineage.resource_id(A)
    assert lineage.resource_id(A) != lineage.resource_id(B)
    assert len(lineage.resource_id(A)) == 8


def test_awss_own_entries_are_read_and_other_fields_kept() -> None:
    rid = lineage.resource_id(A)
    trace = f"Root=1-1-2;Lineage=1:{rid}:5|037bed70:2;Sampled=1"
    assert lineage.counts(trace) == {rid: 5, "037bed70": 2}
    step = lineage.hop(trace, A)
    assert step.count == 6
    assert step.trace == f"Root=1-1-2;Sampled=1;Lineage={rid}:6|037bed70:2"


def test_malformed_lineage_counts_nothing() -> None:
    for bad in ("Lineage=", "Lineage=zz", "Lineage=a:b", "Lineage=a:1:2:3", "nonsense", ""):
        assert lineage.counts(bad) == {}
    assert lineage.hop("garbage", A).count == 1
