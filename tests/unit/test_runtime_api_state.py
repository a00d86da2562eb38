"""Every (state, event) pair of the Runtime API table against the rules RIE implements."""

from __future__ import annotations

import itertools

import pytest

from lambent.fsm import IllegalTransition
from lambent.runtime_api.state import (
    MACHINE,
    Answer,
    InvalidTransition,
    Outcome,
    RtEvent,
    RtState,
    allowed,
    transition,
)

S, E, A = RtState, RtEvent, Answer


def expected(state: RtState, event: RtEvent) -> Outcome | None:
    """The rules, written independently of the table. None: the pair must be refused."""
    if event is E.EXIT:
        return Outcome(S.DEAD, A.NONE)
    if event is E.DELIVER:
        return Outcome(S.INVOKING, A.NONE) if state is S.READY else None
    if event is E.NEXT:
        if state in (S.STARTING, S.READY, S.RESPONDED):
            return Outcome(S.READY, A.PARK)
        return Outcome(state, A.INVALID_STATE)
    if event in (E.RESPONSE, E.ERROR):
        if state is S.INVOKING:
            return Outcome(S.RESPONDED, A.ACCEPTED)
        return Outcome(state, A.INVALID_STATE)
    if event is E.RESPONSE_TOO_LARGE:
        if state is S.INVOKING:
            return Outcome(S.RESPONDED, A.TOO_LARGE)
        return Outcome(state, A.INVALID_STATE)
    if event is E.INIT_ERROR:
        if state is S.STARTING:
            return Outcome(S.INIT_FAILED, A.ACCEPTED)
        return Outcome(state, A.INVALID_STATE)
    raise AssertionError(event)


@pytest.mark.parametrize(("state", "event"), list(itertools.product(RtState, RtEvent)))
def test_every_pair(state: RtState, event: RtEvent) -> None:
    want = expected(state, event)
    if want is None:
        with pytest.raises(InvalidTransition) as refused:
            transition(state, event)
        assert isinstance(refused.value, IllegalTransition)
    else:
        assert transition(state, event) == want
    # The protocol allows exactly what it does not refuse.
    legal = want is not None and want.answer is not A.INVALID_STATE
    assert (event in allowed(state)) is legal


def test_a_response_for_an_invocation_not_in_progress_is_refused() -> None:
    for state in RtState:
        for event in (E.RESPONSE, E.ERROR, E.RESPONSE_TOO_LARGE):
            if state is not S.INVOKING:
                assert transition(state, event) == Outcome(state, A.INVALID_STATE)


def test_dead_is_final_and_every_state_can_die() -> None:
    assert MACHINE.final() == (S.DEAD,)
    for state in RtState:
        assert transition(state, E.EXIT).state is S.DEAD
    assert MACHINE.reachable(MACHINE.initial) == set(RtState)


def test_second_response_is_refused_after_first() -> None:
    state = transition(S.READY, E.DELIVER).state
    first = transition(state, E.RESPONSE)
    assert first.answer is A.ACCEPTED
    assert transition(first.state, E.RESPONSE).answer is A.INVALID_STATE
    assert transition(first.state, E.ERROR).answer is A.INVALID_STATE
